"""Jobs: the news refresh over a local HTTP server serving feeds made from the real news items, and
the named lock that keeps two copies of a job apart."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from carbonscope.errors import Busy, InvalidField
from carbonscope.jobs import refresh_news
from carbonscope.jobs.locks import job_lock
from carbonscope.settings import Settings
from tests.news.test_news import _rss, raw_items


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def feeds(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    items = raw_items().drop_duplicates("link").iloc[:40].to_dict("records")
    (site / "carbon.rss").write_text(_rss(items))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_news_refresh_saves_what_is_new_and_names_the_feed_that_failed(feeds, engine, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", http_retries=0, http_min_interval=0)
    good, missing = f"{feeds}/carbon.rss", f"{feeds}/gone.rss"
    report = refresh_news(settings, engine, [good, missing])
    assert report.feeds == 2 and report.saved["new"] == 40 and list(report.failed) == [missing]
    again = refresh_news(settings, engine, [good])
    assert again.saved["new"] == 0 and again.saved["duplicates"] == 40 and again.failed == {}
    with pytest.raises(InvalidField, match="no feeds"):
        refresh_news(settings.model_copy(update={"news_feeds": []}), engine, [])  # none set, none given


def test_a_second_copy_of_a_job_is_refused_while_the_first_runs(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    with job_lock(settings, "refresh-news"):
        with pytest.raises(Busy, match="already running"):
            with job_lock(settings, "refresh-news", wait=False):
                pass
        with job_lock(settings, "refresh-registries", wait=False):  # another job is not held back
            pass
    with job_lock(settings, "refresh-news", wait=False):  # released with the first
        pass
