"""The tool store in the browser: find a tool, fill the form generated from its JSON Schema,
run it, and watch the job's progress bar (fed by SSE from the real worker) reach the result."""

from __future__ import annotations

from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER

RECORD_PROGRESS = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll('[data-testid=job-progress]')) {
      window.__seen.push(Number(bar.getAttribute('aria-valuenow')));
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


async def test_run_a_tool_and_watch_it_finish(open_app: OpenApp) -> None:
    app = await open_app(credits=100)
    page = app.page
    await page.get_by_test_id("tab-store").click()
    await page.get_by_test_id("category-image").click()
    tool = page.locator("[data-testid=tool][data-slug=image-generate]")
    await tool.wait_for()
    await app.screenshot("store")
    await tool.locator("a").click()

    form = page.get_by_test_id("tool-form")
    await form.wait_for()
    await form.locator("[data-field=prompt] textarea").fill("a red fox in the snow")
    await form.locator("[data-field=size] input").fill("384x384")
    count = form.locator("[data-field=n] input")
    assert await count.get_attribute("min") == "1"
    assert await count.get_attribute("max") == "4"
    await count.fill("4")
    await page.get_by_test_id("quote").filter(has_text="16 credits").wait_for()
    run = page.get_by_test_id("main-button")
    await run.filter(has_text="16").wait_for()
    await app.screenshot("tool")

    await page.evaluate(RECORD_PROGRESS)
    await run.click()
    job = page.get_by_test_id("job-page")
    await job.wait_for()
    await page.locator("[data-testid=job-page][data-status=succeeded]").wait_for(timeout=30_000)
    outputs = page.get_by_test_id("output")
    await outputs.nth(3).wait_for()
    assert await outputs.count() == 4
    first = outputs.first.get_by_test_id("preview-image")
    assert await first.evaluate("img => img.complete && img.naturalWidth") == 384
    await app.screenshot("job")

    seen = await page.evaluate("window.__seen")
    assert seen == sorted(seen), seen
    assert any(0 < value < 100 for value in seen), seen  # the bar moved before the result

    await page.get_by_test_id("tab-jobs").click()
    row = page.get_by_test_id("job").first
    await row.get_by_test_id("job-status").filter(has_text="Done").wait_for()
    await app.screenshot("jobs")
    assert not app.errors, app.errors
