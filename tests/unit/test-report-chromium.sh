#!/bin/bash
# test-report-chromium.sh VMTIER HISTORY_GEN SCREENSHOT: the HTML report of
# history-gen's store, as a reader sees it in Debian's headless Chromium:
#  - the DOM Chromium builds has two charts per VM of the JSON report, each
#    with plotted points, every VM and tenant name as text, an SLO line per
#    VM with an SLO;
#  - loading it logs no console message and requests nothing but the page
#    (served on loopback, so every request shows in Chromium's net log; a
#    broken control page proves the same check catches all three kinds);
#  - a 1280x2000 screenshot, kept at SCREENSHOT, shows the plotted lines in
#    every series colour of the report's stylesheet;
#  - at 1280 px nothing overflows sideways (every table, its verdict column
#    too, within the window);
#  - printed (--print-to-pdf) it is A4 pages holding every VM's verdict;
#    the pages, rendered by pdftoppm, are kept beside SCREENSHOT.
# Without chromium it skips, or fails when CI is set (scripts/vmtier-dev deps
# installs it).
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 gen=$2 shot=$3
export VMTIER_TEMPLATE_DIR=${VMTIER_TEMPLATE_DIR:-$(cd "$(dirname "$0")/../../xml-templates" && pwd)}
export LC_ALL=C TZ=UTC
unset VMTIER_HISTORY_DB

chromium=$(command -v chromium)
if [ -z "$chromium" ]; then
	why="chromium is not installed (scripts/vmtier-dev deps installs it)"
	case "${CI:-}" in
	# a TAP skip: meson counts exit 77 from a TAP test as an error
	""|false|0) echo "1..0 # SKIP $why"; exit 0 ;;
	*) tap_bail "$why" ;;
	esac
fi

tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# The checks that read what Chromium produced; `check KIND ARGS...` prints
# one problem or count per line.
check() {
	python3 - "$@" <<'PY'
import collections, html.parser, json, re, struct, sys, zlib
from urllib.parse import urlsplit

kind, args = sys.argv[1], sys.argv[2:]


class Dom(html.parser.HTMLParser):
    """Charts (svg.chart), their plotted polylines, SLO lines, and the text
    of the h2/h3 headings, from Chromium's serialized DOM."""

    def __init__(self):
        super().__init__()
        self.charts, self.slo, self.headings, self.style = [], 0, [], ""
        self.svg = self.text = None
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "svg" and "chart" in cls:
            self.svg = {"title": a.get("aria-label", ""), "plotted": 0}
            self.charts.append(self.svg)
        elif tag == "polyline" and self.svg is not None:
            if re.search(r"-?\d+(\.\d+)?,-?\d+(\.\d+)?", a.get("points") or ""):
                self.svg["plotted"] += 1
        elif tag == "line" and cls == ["slo"]:
            self.slo += 1
        elif tag in ("h2", "h3"):
            self.text = [tag, ""]
        elif tag == "style":
            self.in_style = True

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        elif self.text and tag == self.text[0]:
            self.headings.append(" ".join(self.text[1].split()))
            self.text = None
        elif tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.text:
            self.text[1] += data
        if self.in_style:
            self.style += data


def read_png(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unexpected PNG type: depth %d, colour type %d, interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev, i = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((v + u) & 255 for v, u in zip(line, prev))
        elif f in (3, 4):
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                if f == 3:
                    line[x] = (line[x] + (a + b) // 2) & 255
                    continue
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def series_colours(style):
    """{"series/series...": (r, g, b)} for the chart lines the stylesheet
    colours, less the greys (a grey line cannot be told from text by its
    colour); series of one colour share an entry."""
    by_colour = {}
    for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", style):
        m = re.search(r"stroke:#([0-9a-fA-F]{6})", body)
        if not m:
            continue
        rgb = tuple(int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4))
        if max(rgb) - min(rgb) < 60:
            continue
        for s in sel.split(","):
            m = re.fullmatch(r"\s*(?:poly)?line\.([\w-]+)\s*", s)
            if m and m.group(1) not in ("grid", "key"):
                by_colour.setdefault(rgb, set()).add(m.group(1))
    return {"/".join(sorted(names)): rgb for rgb, names in by_colour.items()}


def blend_of(p, c):
    """How much of colour C, drawn over white, pixel P is (0 to 1), or 0
    when P is no such blend: an antialiased thin line is one."""
    alphas = [(255 - p[i]) / (255 - c[i]) for i in range(3) if c[i] < 225]
    a = min(1, sum(alphas) / len(alphas))
    return a if all(abs(p[i] - (a * c[i] + (1 - a) * 255)) <= 20 for i in range(3)) else 0


if kind == "dom":
    dom_file, json_file = args
    dom = Dom()
    dom.feed(open(dom_file, encoding="utf-8").read())
    report = json.load(open(json_file))
    vms = [(t["tenant"], v) for t in report["tenants"] for v in t["vms"]]
    headings = collections.Counter(dom.headings)
    print("charts %d %d" % (len(dom.charts), 2 * len(vms)))
    print("plotted %d %d" % (sum(c["plotted"] > 0 for c in dom.charts), len(dom.charts)))
    print("slo %d %d" % (dom.slo, sum(v["slo_target"] is not None for _, v in vms)))
    # one VM section per VM/class period, one tenant section per tenant
    want = collections.Counter("VM %s class %s" % (v["vm"], v["class"] or "none") for _, v in vms)
    want.update(" ".join(("Tenant " + t).split()) for t in {t for t, _ in vms})
    for heading, n in want.items():
        print("heading %d %d %s" % (headings[heading], n, heading))
    json.dump(series_colours(dom.style), open(dom_file + ".colours", "w"))
elif kind == "log":
    # every problem Chromium logged while loading PAGE_URL
    stderr_file, netlog_file, server_log, page_url = args
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    for line in open(stderr_file, errors="replace"):
        if ":CONSOLE" in line or "Failed to load resource" in line or "net::ERR_" in line:
            print("log: " + line.strip())
    netlog = json.load(open(netlog_file))
    names = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
    urls = {}
    for e in netlog["events"]:
        p, src = e.get("params") or {}, e["source"]["id"]
        if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p:
            urls[src] = p
        elif names.get(e["type"]) == "REQUEST_ALIVE" and p.get("net_error") and src in urls:
            if urls[src].get("initiator") == origin or urls[src]["url"] == page_url:
                print("net: %s failed (net error %d)" % (urls[src]["url"], p["net_error"]))
    for p in urls.values():
        # the browser's own requests have no page initiator; the favicon is its own too
        if p.get("initiator") == origin and p["url"] not in (page_url, origin + "/favicon.ico"):
            print("net: the page requested %s" % p["url"])
    for line in open(server_log):
        m = re.search(r'"(\S+) (\S+) [^"]*" (\d+)', line)
        if m and (m.group(2) not in (urlsplit(page_url).path, "/favicon.ico")
                  or m.group(2) == urlsplit(page_url).path and int(m.group(3)) >= 400):
            print("server: %s %s answered %s" % m.groups())
elif kind == "png":
    # pixels the plotted lines add, per series colour: SHOT against the
    # same page with its lines hidden
    shot, bare, colours = args[0], args[1], json.load(open(args[2]))
    w, h, rows = read_png(shot)
    _, _, bare_rows = read_png(bare)
    counts = dict.fromkeys(colours, 0)
    changed = 0
    for y in range(h):
        r, b = rows[y], bare_rows[y]
        if r == b:
            continue
        for x in range(w):
            if r[x] != b[x]:
                changed += 1
                for name, c in colours.items():
                    if blend_of(r[x], c) >= 0.4:
                        counts[name] += 1
    print("size %dx%d" % (w, h))
    print("changed %d" % changed)
    for name, n in sorted(counts.items()):
        print("series %s %d" % (name, n))
PY
}

# chromium NAME ARGS...: one headless run with its own profile and home;
# nothing leaves the machine (every host name but loopback fails to resolve)
run_chromium() {
	local name=$1; shift
	mkdir -p "$tmp/$name-home"
	HOME=$tmp/$name-home timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --hide-scrollbars --user-data-dir="$tmp/$name-profile" \
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" "$@"
}

"$gen" "$tmp/history.db" || tap_bail "history-gen failed"
mkdir "$tmp/www"
"$vmtier" report --db "$tmp/history.db" --format html -o "$tmp/www/report.html" 2>"$tmp/report.err" ||
	tap_bail "vmtier report --format html failed: $(cat "$tmp/report.err")"
"$vmtier" report --db "$tmp/history.db" --format json >"$tmp/report.json" 2>/dev/null ||
	tap_bail "vmtier report --format json failed"

# the control page: a console error, an external stylesheet, a missing image
cat >"$tmp/www/control.html" <<'EOF'
<!DOCTYPE html><html><head><link rel="stylesheet" href="https://cdn.example.invalid/x.css"></head>
<body><img src="missing.png"><script>console.error("control page error")</script></body></html>
EOF
# the same report with its plotted lines and marks hidden, for the screenshot's baseline
sed 's|</style>|polyline,line.slo,circle.missed{visibility:hidden}</style>|' "$tmp/www/report.html" \
	>"$tmp/www/bare.html"

# a loopback server that logs every request (port 0: the kernel picks one)
python3 -u - "$tmp/www" >"$tmp/port" 2>"$tmp/server.log" <<'PY' &
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")
        sys.stderr.flush()
srv = http.server.HTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
print(srv.server_address[1])
srv.serve_forever()
PY
server=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || tap_bail "the loopback server did not start: $(cat "$tmp/server.log")"
base=http://127.0.0.1:$(cat "$tmp/port")

# load NAME URL ARGS...: chromium loads URL (a page of the server), with
# its console log in NAME.err, its net log in NAME.netlog and the server's
# requests in NAME.requests
load() {
	local name=$1 url=$2 seen rc; shift 2
	seen=$(wc -l <"$tmp/server.log")
	run_chromium "$name" --enable-logging=stderr --v=0 --log-net-log="$tmp/$name.netlog" "$@" "$url" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	tail -n +$((seen + 1)) "$tmp/server.log" >"$tmp/$name.requests"
	return $rc
}

# problems NAME URL: what the load NAME of URL logged or requested wrongly
problems() {
	check log "$tmp/$1.err" "$tmp/$1.netlog" "$tmp/$1.requests" "$2" || echo "the log check failed"
}

# 1. the DOM Chromium builds
load dom "$base/report.html" --dump-dom
tap_check "chromium loads the report (exit 0)" test $? -eq 0
check dom "$tmp/dom.out" "$tmp/report.json" >"$tmp/dom.check" || tap_bail "the DOM check failed"
while read -r what a b rest; do
	case $what in
	charts) tap_check "the DOM has two charts per VM ($a of $b)" test "$a" -eq "$b" -a "$b" -gt 0 ;;
	plotted) tap_check "every chart plots points ($a of $b charts)" test "$a" -eq "$b" ;;
	slo) tap_check "one SLO line per VM with an SLO ($a of $b)" test "$a" -eq "$b" -a "$b" -gt 0 ;;
	heading) tap_check "the DOM has the heading '$rest' $b time(s) ($a)" test "$a" -eq "$b" ;;
	esac
done <"$tmp/dom.check"

# 2. that load logged no console message and requested nothing but the page
problems dom "$base/report.html" >"$tmp/dom.problems"
tap_check "loading the report logs no error and requests nothing else" test ! -s "$tmp/dom.problems"
[ -s "$tmp/dom.problems" ] && tap_diag "$(cat "$tmp/dom.problems")"
load control "$base/control.html" --dump-dom
problems control "$base/control.html" >"$tmp/control.problems"
tap_check "the same check catches a console error on a control page" grep -q '^log: .*control page error' "$tmp/control.problems"
tap_check "... its external stylesheet" grep -q '^net: .*cdn\.example\.invalid' "$tmp/control.problems"
tap_check "... and its missing image" grep -q '^server: GET /missing.png answered 404' "$tmp/control.problems"

# 3. the screenshot, against one of the same page with the lines hidden
mkdir -p "$(dirname "$shot")"
rm -f "$shot"
load shot "$base/report.html" --screenshot="$shot" --window-size=1280,2000
tap_check "chromium takes a screenshot of the report" test $? -eq 0 -a -s "$shot"
tap_diag "screenshot: $shot"
load bare "$base/bare.html" --screenshot="$tmp/bare.png" --window-size=1280,2000
problems shot "$base/report.html" >"$tmp/shot.problems"
tap_check "taking it logs no error and requests nothing else" test ! -s "$tmp/shot.problems"
[ -s "$tmp/shot.problems" ] && tap_diag "$(cat "$tmp/shot.problems")"
if [ -s "$shot" ] && [ -s "$tmp/bare.png" ] && check png "$shot" "$tmp/bare.png" "$tmp/dom.out.colours" >"$tmp/png.check"; then
	tap_diag "$(cat "$tmp/png.check")"
	while read -r what a b; do
		case $what in
		size) tap_check "the screenshot is 1280x2000 ($a)" test "$a" = 1280x2000 ;;
		# a chart line is a few hundred pixels long; a dozen of them at least
		changed) tap_check "the plotted lines cover $a pixels of it (at least 3000)" test "$a" -ge 3000 ;;
		series) tap_check "the $a line shows in its colour ($b pixels, at least 100)" test "$b" -ge 100 ;;
		esac
	done <"$tmp/png.check"
	tap_check "the stylesheet colours at least four series" test "$(grep -c '^series' "$tmp/png.check")" -ge 4
else
	tap_fail "the screenshot can be decoded and compared"
fi
# 4. at 1280 px: the page's width, and the right edge of every table and
# verdict, measured by Chromium's layout (a script in a copy of the page)
sed 's|</body>|<script>var r = 0; document.querySelectorAll("table, .verdict").forEach(function (e) { r = Math.max(r, e.getBoundingClientRect().right); }); document.body.setAttribute("data-fit", document.documentElement.scrollWidth + " " + Math.ceil(r) + " " + window.innerWidth);</script></body>|' \
	"$tmp/www/report.html" >"$tmp/www/fit.html"
load fit "$base/fit.html" --dump-dom --window-size=1280,1000
read -r width right inner < <(sed -n 's/.*data-fit="\([0-9]*\) \([0-9]*\) \([0-9]*\)".*/\1 \2 \3/p' "$tmp/fit.out")
tap_check "at 1280 px the page does not scroll sideways (width ${width:-?} in ${inner:-?})" \
	test -n "$width" -a "${width:-9999}" -le "${inner:-0}"
tap_check "and every table and verdict ends within the window (right edge ${right:-?})" \
	test -n "$right" -a "${right:-9999}" -le "${inner:-0}"

# 5. printed: A4 pages with every VM's verdict; the pages kept as images
art=$(dirname "$shot")
rm -f "$art"/report-print*.png "$art/report.pdf"
load pdf "$base/report.html" --no-pdf-header-footer --print-to-pdf="$art/report.pdf"
tap_check "chromium prints the report to PDF" test -s "$art/report.pdf"
if command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null; then
	size=$(pdfinfo "$art/report.pdf" | sed -n 's/^Page size: *\([0-9.]*\) x \([0-9.]*\) pts.*/\1x\2/p')
	tap_check "its pages are A4 ($size pts)" test "${size%%.*}" = 594 -o "${size%%.*}" = 595
	pdftoppm -r 60 -png "$art/report.pdf" "$art/report-print"
	n=$(ls "$art"/report-print*.png 2>/dev/null | wc -l)
	tap_check "pdftoppm renders its $n pages (kept in $art)" test "$n" -ge 1
	want=$(python3 -c 'import json,sys; print(sum(len(t["vms"]) for t in json.load(open(sys.argv[1]))["tenants"]))' "$tmp/report.json")
	got=$(pdftotext -layout "$art/report.pdf" - | grep -cE '(SLO kept|SLO broken|no SLO|not judged yet)\.')
	tap_check "the printed pages state every VM's verdict ($got of $want)" test "$got" -eq "$want"
else
	tap_fail "pdftoppm and pdftotext are installed (poppler-utils; scripts/vmtier-dev deps installs it)"
fi
tap_done
