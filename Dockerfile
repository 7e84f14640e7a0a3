# Production image: the API (default command) and, with another command, the worker.
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
RUN pip install -e . && python -m bot.locales.compile && useradd --create-home atelier
USER atelier
EXPOSE 8000
CMD ["atelier", "api", "--host", "0.0.0.0", "--port", "8000"]
