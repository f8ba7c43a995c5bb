#!/usr/bin/env python3
"""Checks a page of `xlab report --html` as a person would look at it.

    htmlcheck.py PAGE [--ids ID,...] [--svg ID,...] [--text TEXT]...
                 [--screenshot OUT.png] [--size W,H]

1. The file: parsed by Python's html.parser, every element closed in order;
   nothing that fetches or runs (no <script>, <link>, <iframe>, no src= or
   href= but "#..." links inside the page, no url() but "url(#...)"); every
   <svg> parses as XML (xml.etree).
2. Rendered: headless Chromium dumps the DOM it built (--dump-dom); each id
   of --ids is an element there, each id of --svg holds an <svg>, no
   <script> came to be, and each --text is in the page's text (so hostile
   output that reached it shows as text, not markup).
3. Seen: Chromium's screenshot (--screenshot) is decoded (PNG, zlib) and
   must not be blank: enough pixels that are not the background, and more
   than a handful of colours.

Shared by the integration test (tests/integration/test_report_html.c) and
the e2e scripts (reference.sh, matrix.sh), so the check CI runs on real labs
is the one the integration suite exercises.

Chromium missing: a failure under CI (CI=true), else exit 77 (skipped).
Exit 0 when every check passed, 1 (with what failed) otherwise.
"""
import argparse
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SKIP = 77
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
# Where a page could load or run something from elsewhere.
FETCHING = {"script", "link", "iframe", "object", "embed", "img", "audio", "video",
            "source", "frame", "base"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset",
             "data", "background"}


class Page(html.parser.HTMLParser):
    """The elements of a page: ids, tags in order, what is wrong with them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.ids = [], [], {}
        self.text, self.tags = [], []
        self.holds_svg = set()  # ids of elements with an <svg> inside

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)
        if tag == "svg":
            self.holds_svg.update(i for _, i in self.stack if i)
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("id")))

    def handle_startendtag(self, tag, attrs):
        # <path/> in an SVG closes itself; in HTML only void elements do.
        self._element(tag, attrs)
        if not any(t == "svg" for t, _ in self.stack) and tag not in VOID:
            self.problems.append("<%s/> is not closed in HTML" % tag)

    def handle_endtag(self, tag):
        tags = [t for t, _ in self.stack]
        if not tags or tags[-1] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, tags[-1] if tags else "nothing"))
            if tag in tags:
                while self.stack.pop()[0] != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1][0] == "style" and re.search(r"url\(\s*['\"]?[^#'\"\s]|@import", data):
            self.problems.append("the style fetches something: %r" % data[:80])

    def _element(self, tag, attrs):
        self.tags.append(tag)
        if tag in FETCHING:
            self.problems.append("a <%s> element" % tag)
        for name, value in attrs:
            value = value or ""
            if name == "id":
                self.ids.setdefault(value, tag)
            if name.startswith("on"):
                self.problems.append("<%s %s=...>: an event handler" % (tag, name))
            if name in URL_ATTRS and not value.startswith("#"):
                self.problems.append("<%s %s=%r>: leaves the page" % (tag, name, value[:80]))
            if "url(" in value and re.search(r"url\(\s*['\"]?[^#'\"\s]", value):
                self.problems.append("<%s %s=%r>: fetches" % (tag, name, value[:80]))


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    if p.stack:
        p.problems.append("never closed: " + " > ".join(t for t, _ in p.stack))
    return p


def check_file(path, fail):
    text = open(path, encoding="utf-8").read()
    if not text.startswith("<!DOCTYPE html>"):
        fail("%s does not start with <!DOCTYPE html>" % path)
    page = parse(text)
    for problem in page.problems:
        fail("%s: %s" % (path, problem))
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    for i, svg in enumerate(svgs):
        try:
            ET.fromstring(svg)
        except ET.ParseError as err:
            fail("%s: picture %d is not well-formed XML: %s" % (path, i + 1, err))
    return page, len(svgs)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def run_chromium(binary, profile, args, url):
    # --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
    argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + profile] + args + [url]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=False)


def png_pixels(path):
    """Width, height and rows of RGB(A) tuples of an 8-bit, non-interlaced
    PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG of depth %d, colour type %d, interlace %d: not read here" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_screenshot(path, size, fail):
    w, h, bpp, rows = png_pixels(path)
    if (w, h) != size:
        fail("screenshot is %dx%d, not %dx%d" % (w, h, size[0], size[1]))
    colours, inked = set(), 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            rgb = row[x:x + 3]
            colours.add(rgb)
            inked += rgb != b"\xff\xff\xff"
    share = inked / float(w * h)
    # A page with a header, a picture and tables inks a few percent of a
    # screen at least, in many shades (anti-aliased text, the bars' colours).
    if share < 0.02 or len(colours) < 16:
        fail("screenshot looks blank: %.1f%% of pixels not white, %d colours" % (100 * share, len(colours)))
    return share, len(colours)


def check_rendered(path, ids, svg_ids, texts, screenshot, size, fail):
    binary = chromium()
    if not binary:
        msg = "chromium is not installed (apt-get install chromium; scripts/install-deps.sh)"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            fail(msg)
            return
        print("SKIP: " + msg)
        sys.exit(SKIP)
    url = "file://" + os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="htmlcheck-") as profile:
        r = run_chromium(binary, profile, ["--dump-dom"], url)
        if r.returncode != 0 or not r.stdout:
            fail("chromium --dump-dom failed (%d): %s" % (r.returncode, r.stderr.decode(errors="replace")[-400:]))
            return
        dom = parse(r.stdout.decode("utf-8", errors="replace"))
        shot = screenshot or os.path.join(profile, "page.png")
        r = run_chromium(binary, profile, ["--screenshot=" + shot, "--window-size=%d,%d" % size,
                                           "--hide-scrollbars"], url)
        if r.returncode != 0 or not os.path.exists(shot):
            fail("chromium --screenshot failed (%d): %s" % (r.returncode, r.stderr.decode(errors="replace")[-400:]))
            return
        share, colours = check_screenshot(shot, size, fail)
    for i in ids:
        if i not in dom.ids:
            fail("rendered page has no element id=%r" % i)
    dom_text = "".join(dom.text)
    for t in texts:
        if t not in dom_text:
            fail("rendered page's text lacks %r" % t)
    if "script" in dom.tags:
        fail("a <script> element is in the rendered page")
    for i in svg_ids:
        if i not in dom.holds_svg:
            fail("element id=%r holds no picture" % i)
    print("rendered: %d elements, %d ids; screenshot %dx%d, %.1f%% inked, %d colours"
          % (len(dom.tags), len(dom.ids), size[0], size[1], 100 * share, colours))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("page")
    ap.add_argument("--ids", default="", help="ids that must be elements of the rendered page")
    ap.add_argument("--svg", default="", help="ids whose element must hold an <svg>")
    ap.add_argument("--text", action="append", default=[], help="text the rendered page must show")
    ap.add_argument("--screenshot", help="keep the screenshot here")
    ap.add_argument("--size", default="1280,1600", help="window size W,H")
    a = ap.parse_args()
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    ids = [i for i in a.ids.split(",") if i]
    svg_ids = [i for i in a.svg.split(",") if i]
    size = tuple(int(v) for v in a.size.split(","))
    page, n_svg = check_file(a.page, fail)
    print("file: %d elements, %d pictures, %d ids" % (len(page.tags), n_svg, len(page.ids)))
    check_rendered(a.page, ids + svg_ids, svg_ids, a.text, a.screenshot, size, fail)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
