# Production image: the API (default command) and, with another command, the worker.

# The Mini App front end, built with Node and copied into the runtime image as static files.
FROM node:22-slim AS webapp
WORKDIR /webapp
COPY webapp/package.json webapp/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY webapp/ ./
RUN npm run build

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core ./core
COPY tenants ./tenants
COPY bot ./bot
COPY miniapp_api ./miniapp_api
COPY jobs ./jobs
COPY devtools ./devtools
COPY cli ./cli
COPY migrations ./migrations
COPY --from=webapp /webapp/dist ./webapp/dist
RUN pip install -e . && python -m bot.locales.compile && useradd --create-home atelier
USER atelier
EXPOSE 8000
CMD ["atelier", "api", "--host", "0.0.0.0", "--port", "8000"]
