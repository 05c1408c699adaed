"""Spool's web page in a real (headless) Chromium against a real Spool.

Media comes from the loopback media server that run.sh starts: /media/<file> at full speed,
/slow/<file> throttled to ~12 s per file, anything else 404.
"""

import json
import re

from conftest import TIMEOUT, Env, api_job, free_port, http_get

PHASES = ["metadata", "download", "transcode", "store"]


def media(path):
    return f"{Env.media_url}/{path}"


def assert_download_works(card, expected_type):
    assert card["download"], f"no download link on {card}"
    assert card["download"].startswith(f"{Env.spool_url}/files/"), card["download"]
    status, headers, body = http_get(card["download"])
    assert status == 200, f"download answered {status}"
    assert len(body) > 0
    assert headers.get("Content-Type", "").startswith(expected_type), headers
    assert "attachment" in headers.get("Content-Disposition", ""), headers
    return body


def assert_never_backwards(record):
    values = [entry["progress"] for entry in record]
    assert values == sorted(values), f"the progress bar went backwards: {values}"


# MARK: The form


def test_page_is_live_and_form_is_labelled(page):
    page.open()
    info = page.wait_connection("live")
    assert info["text"].startswith("Live")
    d = page.driver
    # Real labels and the live region.
    for field in ["url", "quality", "format-mp3", "format-mp4"]:
        assert d.find_elements("css selector", f'label[for="{field}"]'), f"no label for #{field}"
    assert d.find_element("id", "announcer").get_attribute("aria-live") == "polite"
    # Quality options and default follow the format.
    assert d.execute_script("return document.getElementById('quality').value") == "192"
    options = d.execute_script("return [...document.getElementById('quality').options].map((o) => o.value)")
    assert options == ["320", "256", "192", "160", "128", "96", "64"]
    page.choose("mp4")
    assert d.execute_script("return document.getElementById('quality').value") == "1080"
    options = d.execute_script("return [...document.getElementById('quality').options].map((o) => o.value)")
    assert options == ["best", "2160", "1440", "1080", "720", "480", "360", "240", "144"]
    page.choose("mp3")
    assert d.execute_script("return document.getElementById('quality').value") == "192"
    # The bar glides between updates (a CSS transition on its fill).
    d.execute_script("document.getElementById('jobs').append(document.getElementById('job-template').content.firstElementChild.cloneNode(true))")
    transition = d.execute_script("return getComputedStyle(document.querySelector('#jobs .progress-fill')).transitionDuration")
    d.execute_script("document.querySelector('#jobs > li').remove()")
    assert transition not in ("", "0s"), transition


def test_bad_url_is_explained_next_to_the_field(page):
    page.open()
    page.wait_connection("live")
    page.type_url_and_enter("ftp://x")
    message = page.wait(page.url_error, message="the URL error")
    assert "http" in message, message
    field = page.driver.find_element("id", "url")
    assert field.get_attribute("aria-invalid") == "true"
    assert "url-error" in field.get_attribute("aria-describedby")
    assert page.job_ids() == [], "a rejected link must not create a job"
    # Typing again clears the message.
    field.send_keys("y")
    page.wait(lambda: page.url_error() == "", message="the error to clear")

    # A mistake only the server catches shows the server's own message in the same place.
    too_long = "https://example.com/" + "a" * 2100
    page.type_url_and_enter(too_long)
    message = page.wait(page.url_error, message="the server's URL error")
    assert "2048" in message, message
    assert page.job_ids() == []


# MARK: Conversions


def test_conversion_shows_live_progress_and_a_working_download(page):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("slow/clip.mp4"), "mp3", "128")

    # While it downloads, the bar and the figures move.
    first = page.wait_card(job_id, lambda c: c["step"] == "download" and c["progress"] > 0, message="download progress")
    assert first["phases"]["metadata"] == "done" and first["phases"]["download"] == "current"
    assert first["cancel"], "a running job offers Cancel"
    page.wait_card(job_id, lambda c: c["progress"] > first["progress"], message="progress to rise")
    assert page.card(job_id)["title"] == "clip", "the title from the metadata replaces the URL"

    done = page.wait_card(job_id, lambda c: c["status"] == "completed", message="completion")
    assert done["progress"] == 100 and done["pct"] == "100%"
    assert set(done["phases"].values()) == {"done"}
    assert not done["cancel"] and done["remove"]
    assert re.search(r"Download MP3 [\d.]+ (KB|MB) · 0:0[56]", done["downloadText"]), done["downloadText"]
    body = assert_download_works(done, "audio/mpeg")
    assert body[:3] == b"ID3" or body[0] == 0xFF, "an mp3 file"

    record = page.record(job_id)
    steps = [entry["step"] for entry in record]
    seen = [step for step in PHASES if step in steps]
    assert seen[:2] == ["metadata", "download"] and "transcode" in seen, f"phases seen: {steps}"
    order = [PHASES.index(step) for step in steps if step in PHASES]
    assert order == sorted(order), f"phases out of order: {steps}"
    assert_never_backwards(record)
    assert len({entry["progress"] for entry in record}) >= 4, f"too few progress values: {record}"

    # The server agrees.
    assert api_job(job_id)["status"] == "completed"

    # A finished card can be removed, and stays removed after a reload.
    page.click(job_id, ".job-remove")
    page.wait(lambda: job_id not in page.job_ids(), message="the card to go")
    page.reload()
    page.wait_connection("live")
    assert job_id not in page.job_ids()


def test_several_jobs_newest_first_and_mp4(page):
    page.open()
    page.wait_connection("live")
    first = page.submit(media("media/clip.mp4"), "mp4", "360")
    second = page.submit(media("media/clip.mp4"), "mp3")
    assert page.job_ids()[:2] == [second, first]
    done = page.wait_card(first, lambda c: c["status"] == "completed", message="the mp4 job")
    assert "MP4" in done["downloadText"]
    assert_download_works(done, "video/mp4")
    page.wait_card(second, lambda c: c["status"] == "completed", message="the mp3 job")


def test_cancel_a_running_job(page):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("slow/long.mp4"), "mp4")
    page.wait_card(job_id, lambda c: c["step"] == "download" and c["progress"] > 0, message="the download to start")
    page.click(job_id, ".job-cancel")
    card = page.wait_card(job_id, lambda c: c["status"] == "cancelled", message="the cancel")
    assert card["message"] == "Cancelled"
    assert not card["cancel"] and card["retry"] and card["remove"] and not card["download"]
    assert api_job(job_id)["status"] == "cancelled"


def test_missing_source_shows_the_servers_message_and_retry(page):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("media/missing.mp4"), "mp3")
    card = page.wait_card(job_id, lambda c: c["status"] == "failed", message="the failure")
    server = api_job(job_id)
    assert server["status"] == "failed"
    assert card["error"] == server["error"]["message"], (card, server)
    assert "not found" in card["error"].lower()
    assert "SOURCE_UNAVAILABLE" in card["errorCode"]
    assert card["phases"]["metadata"] == "failed"
    assert card["retry"] and card["remove"] and not card["cancel"]

    # Try again starts a new job with the same options; the failed card makes way for it.
    page.click(job_id, ".job-retry")
    retried = page.wait(lambda: next((i for i in page.job_ids() if i != job_id), False), message="the retried job")
    page.wait(lambda: job_id not in page.job_ids(), message="the old card to go")
    again = api_job(retried)
    assert again["url"] == media("media/missing.mp4") and again["format"] == "mp3" and again["quality"] == "192"
    page.wait_card(retried, lambda c: c["status"] == "failed", message="the retried failure")


# MARK: Reload, restart, fallback


def test_reload_mid_job_resumes_and_finishes(page):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("slow/long.mp4"), "mp3", "96")
    before = page.wait_card(job_id, lambda c: c["step"] == "download" and c["progress"] > 3, message="some progress")
    saved = page.driver.execute_script("return JSON.parse(localStorage.getItem('spool.jobs.v1'))")
    assert any(j["jobId"] == job_id and j["lastSeq"] > 1 and j["format"] == "mp3" for j in saved), saved

    page.reload()
    # The card is back at once (from localStorage), then the server's snapshot confirms it.
    page.wait(lambda: job_id in page.job_ids(), timeout=10, message="the card after reload")
    page.wait_connection("live")
    resumed = page.wait_card(job_id, lambda c: c["status"] == "running" and c["progress"] >= before["progress"], message="the resumed card")
    assert resumed["phases"]["metadata"] == "done"
    done = page.wait_card(job_id, lambda c: c["status"] == "completed", message="completion after reload")
    assert_download_works(done, "audio/mpeg")
    assert_never_backwards(page.record(job_id))


def test_server_restart_shows_reconnecting_and_recovers(page, spool_process):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("slow/long.mp4"), "mp3")
    page.wait_card(job_id, lambda c: c["step"] == "download" and c["progress"] > 3, message="some progress")

    spool_process.stop()
    info = page.wait_connection("reconnecting", timeout=30)
    assert info["text"].startswith("Reconnecting"), info
    # The server is down, not just its WebSocket: the client must not claim a fallback.
    assert page.connection()["state"] != "fallback"

    spool_process.start()
    page.wait_connection("live", timeout=60)
    # The interrupted job runs again on the restarted server and the page follows it to the end.
    done = page.wait_card(job_id, lambda c: c["status"] == "completed", timeout=TIMEOUT * 1.5, message="completion after restart")
    assert_download_works(done, "audio/mpeg")
    assert_never_backwards(page.record(job_id))


def test_sse_fallback_when_websockets_fail(page):
    refused = free_port()  # nothing listens there
    page.open(f"?wsPort={refused}")
    info = page.wait_connection("fallback", timeout=60)
    assert "Fallback" in info["text"], info

    job_id = page.submit(media("slow/clip.mp4"), "mp3")
    first = page.wait_card(job_id, lambda c: c["step"] == "download" and c["progress"] > 0, message="progress over SSE")
    page.wait_card(job_id, lambda c: c["progress"] > first["progress"], message="progress to rise over SSE")
    assert page.driver.execute_script("return window.spool.client.job(arguments[0]).transport", job_id) == "sse"
    done = page.wait_card(job_id, lambda c: c["status"] == "completed", message="completion over SSE")
    assert_download_works(done, "audio/mpeg")
    assert_never_backwards(page.record(job_id))

    # Cancel goes over HTTP in fallback mode.
    other = page.submit(media("slow/long.mp4"), "mp3")
    page.wait_card(other, lambda c: c["status"] == "running", message="the second job to run")
    page.click(other, ".job-cancel")
    page.wait_card(other, lambda c: c["status"] == "cancelled", message="the cancel over HTTP")
    assert api_job(other)["status"] == "cancelled"
    assert page.connection()["state"] == "fallback"


def test_debug_drop_reconnects_and_resubscribes(page):
    page.open()
    page.wait_connection("live")
    job_id = page.submit(media("slow/clip.mp4"), "mp3")
    page.wait_card(job_id, lambda c: c["step"] == "download", message="the download")
    page.driver.execute_script("window.spool.client.debugDrop()")
    page.wait(lambda: "reconnecting" in page.states(), timeout=10, message="the drop to show")
    page.wait_connection("live", timeout=60)
    done = page.wait_card(job_id, lambda c: c["status"] == "completed", message="completion after the drop")
    assert_download_works(done, "audio/mpeg")
    assert_never_backwards(page.record(job_id))


def test_narrow_phone_layout_has_no_sideways_scroll(page):
    page.driver.set_window_size(360, 800)
    page.open()
    page.wait_connection("live")
    failed = page.submit(media("media/missing.mp4"), "mp4")
    done = page.submit(media("media/clip.mp4"), "mp4", "240")
    page.wait_card(failed, lambda c: c["status"] == "failed", message="the failure")
    page.wait_card(done, lambda c: c["status"] == "completed", message="the completion")
    width = page.driver.execute_script("return document.documentElement.clientWidth")
    scroll = page.driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways at {width}px: {scroll}px wide"
    overflowing = page.driver.execute_script(
        """return [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length
               && !e.closest('.visually-hidden') && e.getBoundingClientRect().right > arguments[0] + 0.5)
               .map((e) => e.className || e.tagName)""",
        width,
    )
    assert overflowing == [], f"elements past the right edge at {width}px: {overflowing}"
    # Keyboard: Tab from the link field reaches the format, quality and Convert controls.
    page.driver.find_element("id", "url").click()
    active = []
    for _ in range(4):
        page.driver.switch_to.active_element.send_keys("\ue004")  # Tab
        active.append(page.driver.execute_script("return document.activeElement.id || document.activeElement.className"))
    assert "quality" in active and "convert" in active, active


def test_a_job_started_in_one_tab_appears_in_another(page):
    page.open()
    page.wait_connection("live")
    first_tab = page.driver.current_window_handle
    page.driver.switch_to.new_window("tab")
    page.open()
    page.wait_connection("live")
    second_tab = page.driver.current_window_handle

    page.driver.switch_to.window(first_tab)
    job_id = page.submit(media("media/clip.mp4"), "mp3")
    page.wait_card(job_id, lambda c: c["status"] == "completed", message="completion in the first tab")

    page.driver.switch_to.window(second_tab)
    card = page.wait_card(job_id, lambda c: c["status"] == "completed", message="the job in the second tab")
    assert_download_works(card, "audio/mpeg")
    # Removing it in one tab removes it in the other too, for good.
    page.click(job_id, ".job-remove")
    page.wait(lambda: job_id not in page.job_ids(), message="the card to go")
    page.driver.switch_to.window(first_tab)
    page.wait(lambda: job_id not in page.job_ids(), message="the card to go in the other tab")
    page.reload()
    page.wait_connection("live")
    assert job_id not in page.job_ids()
