"""The drive in the browser: upload an image with a progress bar, see the worker's thumbnail,
make a folder, drag the file into it, and open it."""

from __future__ import annotations

import io
import os

from PIL import Image

from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER

UPLOAD_BYTES_PER_S = 400 * 1024


def noisy_png(side: int = 420) -> bytes:
    """An image that does not compress (~500 KB), so the upload takes long enough to watch."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


RECORD_PROGRESS = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll('[data-testid=upload-progress]')) {
      window.__seen.push(Number(bar.getAttribute('aria-valuenow')));
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


async def test_upload_thumbnail_folder_and_drag_into_it(open_app: OpenApp) -> None:
    app = await open_app()
    page = app.page
    await page.get_by_test_id("empty").wait_for()
    await page.evaluate(RECORD_PROGRESS)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_S,
        },
    )
    image = noisy_png()
    await page.get_by_test_id("upload-input").set_input_files(
        {"name": "fox.png", "mimeType": "image/png", "buffer": image}
    )
    await page.get_by_test_id("upload-progress").wait_for()
    await app.screenshot("drive-uploading")
    tile = page.get_by_test_id("file").filter(has_text="fox.png")
    await tile.wait_for()
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    seen = await page.evaluate("window.__seen")
    assert any(0 < value < 100 for value in seen), seen  # the bar moved while bytes went out
    assert seen == sorted(seen)

    # The worker measures the image and makes a thumbnail; the page shows it when it lands.
    thumbnail = tile.get_by_test_id("thumbnail")
    await thumbnail.wait_for(timeout=15_000)
    assert await thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")
    await page.get_by_text("420×420").wait_for()
    await app.screenshot("drive")

    await page.get_by_test_id("new-folder").click()
    dialog = page.get_by_test_id("new-folder-dialog")
    await dialog.get_by_role("textbox").fill("Renders")
    await dialog.get_by_role("button", name="Create").click()
    folder = page.get_by_test_id("folder").filter(has_text="Renders")
    await folder.wait_for()

    await tile.drag_to(folder)
    await page.get_by_text("Moved: 1").wait_for()
    await tile.wait_for(state="detached")

    await folder.locator(".item-open").click()
    await page.get_by_test_id("crumb").filter(has_text="Renders").wait_for()
    moved = page.get_by_test_id("file").filter(has_text="fox.png")
    await moved.get_by_test_id("thumbnail").wait_for()
    await app.screenshot("drive-folder")

    await moved.locator(".item-open").click()
    preview = page.get_by_test_id("preview")
    await preview.get_by_test_id("preview-image").wait_for()
    assert await preview.get_by_test_id("preview-image").evaluate("img => img.naturalWidth") == 420
    await app.screenshot("drive-preview")
    await page.keyboard.press("Escape")
    await preview.wait_for(state="detached")

    # The context menu puts it in the trash; the trash view brings it back.
    await moved.get_by_role("button", name="Actions for fox.png").click()
    await page.get_by_test_id("context-menu").get_by_role("menuitem", name="Move to trash").click()
    await moved.wait_for(state="detached")
    await page.get_by_test_id("open-trash").click()
    trashed = page.get_by_test_id("trash-item").filter(has_text="fox.png")
    await trashed.wait_for()
    await app.screenshot("trash")
    await trashed.get_by_role("button", name="Restore").click()
    await page.get_by_test_id("empty").filter(has_text="The trash is empty").wait_for()

    # Back through the in-page back button (no Telegram BackButton here) to the folder.
    await page.get_by_test_id("back").click()
    await page.get_by_test_id("crumb").filter(has_text="Renders").wait_for()
    await page.get_by_test_id("file").filter(has_text="fox.png").wait_for()
    await page.get_by_test_id("crumb").filter(has_text="My files").locator("a").click()
    await page.get_by_test_id("folder").filter(has_text="Renders").wait_for()
    assert await page.get_by_test_id("file").count() == 0
    assert not app.errors, app.errors
