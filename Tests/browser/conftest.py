"""Fixtures for Spool's browser tests (run them through Tests/browser/run.sh).

run.sh provides, in the environment: SPOOL_URL, SPOOL_PORT, MEDIA_URL, SPOOL_BIN, SPOOL_STORAGE,
SPOOL_PUBLIC, SPOOL_LOG and SPOOL_PID_FILE (the pid of the Spool that is running now; a test
that restarts Spool writes the new pid there so run.sh stops the right process).
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

REQUIRED = ["SPOOL_URL", "MEDIA_URL", "SPOOL_PORT", "SPOOL_BIN", "SPOOL_STORAGE", "SPOOL_PUBLIC", "SPOOL_PID_FILE"]

# Generous: a shared 2-core machine runs Chromium, Spool, yt-dlp and ffmpeg at once.
TIMEOUT = float(os.environ.get("BROWSER_TEST_TIMEOUT", "90"))


def pytest_configure(config):
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.exit(f"run these tests with Tests/browser/run.sh (missing {', '.join(missing)})", returncode=2)


class Env:
    spool_url = os.environ.get("SPOOL_URL", "")
    media_url = os.environ.get("MEDIA_URL", "")


def http_get(url, timeout=30):
    """(status, headers, body) of a GET, also for 4xx/5xx."""
    request = urllib.request.Request(url, headers={"Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def api_job(job_id):
    status, _, body = http_get(f"{Env.spool_url}/api/conversions/{job_id}")
    assert status == 200, f"GET /api/conversions/{job_id} answered {status}: {body[:300]!r}"
    return json.loads(body)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# JavaScript that reads one card the way a person sees it.
CARD_STATE_JS = """
const li = document.querySelector(`#jobs > li[data-job-id="${arguments[0]}"]`);
if (!li) return null;
const q = (s) => li.querySelector(s);
const shown = (s) => { const e = q(s); return !!e && !e.hidden && e.getClientRects().length > 0; };
const a = q('.job-download');
return {
  status: li.dataset.status, step: li.dataset.step,
  progress: parseFloat(q('.progress').getAttribute('aria-valuenow')),
  pct: q('.fig-pct').textContent, title: q('.job-title').textContent,
  message: q('.job-message').textContent,
  error: shown('.job-error') ? q('.job-error-text').textContent : null,
  errorCode: q('.job-error-code').textContent,
  download: shown('.job-download') ? a.href : null,
  downloadText: a.textContent.replace(/\\s+/g, ' ').trim(),
  phases: Object.fromEntries([...li.querySelectorAll('.phase')].map((p) => [p.dataset.phase, p.dataset.state])),
  cancel: shown('.job-cancel'), retry: shown('.job-retry'), remove: shown('.job-remove'),
  index: [...li.parentElement.children].indexOf(li),
};
"""

# Records every state a card is drawn in (status, step, progress), to check the order of phases
# and that the bar never goes backwards, without racing the page with polls.
RECORDER_JS = """
if (!window.__spoolRecord) {
  window.__spoolRecord = [];
  const take = () => {
    for (const li of document.querySelectorAll('#jobs > li')) {
      const bar = li.querySelector('.progress');
      const entry = { id: li.dataset.jobId, status: li.dataset.status, step: li.dataset.step,
                      progress: parseFloat(bar.getAttribute('aria-valuenow')), t: Date.now() };
      const last = window.__spoolRecord.filter((e) => e.id === entry.id).pop();
      if (!last || last.status !== entry.status || last.step !== entry.step || last.progress !== entry.progress) {
        window.__spoolRecord.push(entry);
      }
    }
  };
  new MutationObserver(take).observe(document.getElementById('jobs'),
    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-step', 'aria-valuenow'] });
  take();
  window.__spoolStates = [window.spool.client.state];
  window.spool.client.on('connection', (c) => window.__spoolStates.push(c.state));
}
"""


class SpoolPage:
    """The Spool page in one browser, with the few actions and reads the tests need."""

    def __init__(self, driver):
        self.driver = driver

    # Waiting

    def wait(self, condition, timeout=TIMEOUT, message="condition"):
        """Waits until condition() is truthy; returns its value."""

        def check(_):
            try:
                return condition()
            except (StaleElementReferenceException, JavascriptException):
                return False

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(check)
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}; page: {self.debug_summary()}") from None

    def debug_summary(self):
        try:
            return json.dumps(
                {
                    "connection": self.connection(),
                    "cards": [self.card(i) for i in self.job_ids()],
                    "formError": self.driver.find_element(By.ID, "url-error").text,
                }
            )[:2000]
        except Exception as error:  # the summary must never hide the real failure
            return f"(no summary: {error})"

    # Navigation

    def open(self, query=""):
        self.driver.get(f"{Env.spool_url}/{query}")
        self.wait(lambda: self.driver.execute_script("return !!(window.spool && window.spool.client)"), message="the page script")
        self.driver.execute_script(RECORDER_JS)
        return self

    def reload(self):
        self.driver.refresh()
        self.wait(lambda: self.driver.execute_script("return !!(window.spool && window.spool.client)"), message="the page script after reload")
        self.driver.execute_script(RECORDER_JS)

    # Reads

    def connection(self):
        el = self.driver.find_element(By.ID, "connection")
        return {"state": el.get_attribute("data-state"), "text": " ".join(el.text.split())}

    def wait_connection(self, state, timeout=TIMEOUT):
        return self.wait(lambda: self.connection()["state"] == state and self.connection(), timeout, f"connection state '{state}'")

    def job_ids(self):
        return self.driver.execute_script("return [...document.querySelectorAll('#jobs > li')].map((li) => li.dataset.jobId)")

    def card(self, job_id):
        return self.driver.execute_script(CARD_STATE_JS, job_id)

    def card_element(self, job_id):
        return self.driver.find_element(By.CSS_SELECTOR, f'#jobs > li[data-job-id="{job_id}"]')

    def wait_card(self, job_id, predicate, timeout=TIMEOUT, message="card state"):
        def check():
            state = self.card(job_id)
            return state if state and predicate(state) else False

        return self.wait(check, timeout, f"{message} (job {job_id})")

    def states(self):
        """Every connection state the client went through since the page was opened."""
        return self.driver.execute_script("return window.__spoolStates || []")

    def record(self, job_id):
        return self.driver.execute_script("return (window.__spoolRecord || []).filter((e) => e.id === arguments[0])", job_id)

    def url_error(self):
        el = self.driver.find_element(By.ID, "url-error")
        return el.text if el.is_displayed() else ""

    # Actions

    def choose(self, format="mp3", quality=None):
        self.driver.find_element(By.CSS_SELECTOR, f'label[for="format-{format}"]').click()
        if quality is not None:
            Select(self.driver.find_element(By.ID, "quality")).select_by_value(quality)

    def type_url_and_enter(self, url):
        field = self.driver.find_element(By.ID, "url")
        field.clear()
        field.send_keys(url)
        field.send_keys(Keys.ENTER)

    def submit(self, url, format="mp3", quality=None):
        """Fills the form like a person (type/paste, then Enter) and returns the new job's id."""
        before = set(self.job_ids())
        self.choose(format, quality)
        self.type_url_and_enter(url)

        def new_id():
            fresh = [i for i in self.job_ids() if i not in before]
            return fresh[0] if fresh else False

        job_id = self.wait(new_id, message=f"a card for {url}")
        assert self.job_ids()[0] == job_id, "the newest card must be first"
        return job_id

    def click(self, job_id, selector):
        self.card_element(job_id).find_element(By.CSS_SELECTOR, selector).click()


@pytest.fixture
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path="/usr/bin/chromedriver")
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(30)
    yield browser
    # A script error anywhere on the page fails the test that caused it.
    try:
        logs = browser.get_log("browser")
    except Exception:
        logs = []
    browser.quit()
    crashes = [entry["message"] for entry in logs if entry.get("level") == "SEVERE" and "Uncaught" in entry.get("message", "")]
    assert not crashes, f"JavaScript errors on the page: {crashes}"


@pytest.fixture
def page(driver):
    return SpoolPage(driver)


class SpoolProcess:
    """Stops and starts the Spool that run.sh started (same port, same storage)."""

    pid_file = os.environ.get("SPOOL_PID_FILE", "")

    def pid(self):
        with open(self.pid_file) as f:
            return int(f.read().strip())

    @staticmethod
    def _gone(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                return any(line.startswith("State:") and "Z" in line for line in f)
        except FileNotFoundError:
            return True

    def stop(self, timeout=30):
        pid = self.pid()
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self._gone(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"Spool (pid {pid}) did not stop within {timeout} s of SIGTERM")

    def start(self, timeout=60):
        log = open(os.environ.get("SPOOL_LOG", os.devnull), "ab")
        process = subprocess.Popen(
            [
                os.environ["SPOOL_BIN"],
                "--http-host", "127.0.0.1",
                "--http-port", os.environ["SPOOL_PORT"],
                "--storage-path", os.environ["SPOOL_STORAGE"],
                "--public-path", os.environ["SPOOL_PUBLIC"],
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with open(self.pid_file + ".tmp", "w") as f:
            f.write(str(process.pid))
        os.replace(self.pid_file + ".tmp", self.pid_file)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the restarted Spool exited with {process.returncode}")
            try:
                if http_get(f"{Env.spool_url}/readyz", timeout=2)[0] == 200:
                    return process
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("the restarted Spool did not become ready")


@pytest.fixture
def spool_process():
    return SpoolProcess()
