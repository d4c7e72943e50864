#!/usr/bin/env bash
# plot-timeline.sh - draw a upssim timeline CSV (`upssim --timeline FILE`)
# as a PNG or SVG with gnuplot: a strip of the Q register's bits, then
# charge and runtime, line and output voltage, load, battery voltage, all
# on one time axis, with a dashed line and a label at every change of Q.
set -euo pipefail

prog=plot-timeline
HEADER='t_s,event,Q,charge_pct,runtime_min,line_v,out_v,load_pct,batt_v'

usage() {
	cat <<'EOF'
Usage: scripts/plot-timeline.sh [options] TIMELINE.csv OUT.png|OUT.svg

Draw a upssim timeline (written by `upssim --timeline FILE.csv`) with
gnuplot.  The output format follows OUT's extension: .png or .svg.

Panels, top to bottom, on one time axis:
  Q register   one lane per bit (OL on line, OB on battery, LB low battery,
               RB replace battery, OVL overload, TRIM, BOOST, CAL) and a
               lane of ticks, one per row that names an event
  charge %     with the runtime estimate in minutes on the right axis
  voltage      line and output
  load %
  battery V
Every change of Q gets a dashed line across all panels and a label: the
row's event text and the new Q value.  Labels too close to tell apart
merge into the one before (a quick flip reads "event  Q=10>08").

Options:
  --title TEXT     title above the plot (default: the CSV's file name)
  --labels WHICH   q    label the rows where Q changes (default)
                   all  those, and every row that names an event
                   none no labels (the dashed lines stay)
  --size WxH       picture size in pixels (default 1000x1100)
  -h, --help       this text

Exit status: 0 picture written; 1 bad input or gnuplot failed;
2 usage error; 3 gnuplot is not installed (scripts/install-deps.sh
installs the Debian package gnuplot-nox).
EOF
}

die() { # status message...
	local rc=$1
	shift
	echo "$prog: $*" >&2
	exit "$rc"
}

title="" labels=q size=1000x1100
args=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--title) [ $# -ge 2 ] || die 2 "--title needs a value"; title=$2; shift 2 ;;
	--labels) [ $# -ge 2 ] || die 2 "--labels needs a value"; labels=$2; shift 2 ;;
	--size) [ $# -ge 2 ] || die 2 "--size needs a value"; size=$2; shift 2 ;;
	--) shift; args+=("$@"); break ;;
	-?*) die 2 "unknown option '$1' (try --help)" ;;
	*) args+=("$1"); shift ;;
	esac
done
[ ${#args[@]} -eq 2 ] || { usage >&2; exit 2; }
csv=${args[0]} out=${args[1]}
case $labels in q | all | none) ;; *) die 2 "--labels: q, all or none, not '$labels'" ;; esac
[[ $size =~ ^([0-9]{2,5})x([0-9]{2,5})$ ]] || die 2 "--size: WIDTHxHEIGHT in pixels, not '$size'"
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
case ${out,,} in
*.png) term="pngcairo size $width,$height noenhanced font 'sans,9' background '#ffffff'" ;;
*.svg) term="svg size $width,$height dynamic noenhanced font 'sans,9' background '#ffffff'" ;;
*) die 2 "$out: the output name must end in .png or .svg" ;;
esac
command -v gnuplot >/dev/null 2>&1 ||
	die 3 "gnuplot not found: install the Debian package gnuplot-nox (scripts/install-deps.sh does)"
{ [ -f "$csv" ] && [ -r "$csv" ]; } || die 1 "$csv: not a readable file"
first=$(head -n 1 -- "$csv" | tr -d '\r')
[ "$first" = "$HEADER" ] ||
	die 1 "$csv: not a upssim timeline: the first line must be '$HEADER'"
[ -n "$title" ] || title=$(basename -- "$csv")
title=${title//[$'\n\r\t']/ }
outdir=$(dirname -- "$out")
{ [ -d "$outdir" ] && [ -w "$outdir" ]; } || die 1 "$out: the directory $outdir does not exist or is not writable"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plot-timeline.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# CSV -> a whitespace-separated data file for gnuplot, plus gnuplot
# commands for the Q-change lines and the labels.  Fields may be quoted
# (RFC 4180, "" for a quote); the event is the only text column.
awk -v labels="$labels" -v width="$width" -v data="$tmp/data" -v marks="$tmp/marks.gp" \
	-v ticks="$tmp/ticks" -v src="$csv" '
function fail(msg) {
	printf "plot-timeline: %s:%d: %s\n", src, NR, msg > "/dev/stderr"
	bad = 1
	exit 1
}
# split line s into f[1..n]; @return n
function csv_split(s, f,    n, i, c, inq, cur, len) {
	n = 0; cur = ""; inq = 0; len = length(s)
	for (i = 1; i <= len; i++) {
		c = substr(s, i, 1)
		if (inq) {
			if (c == "\"") {
				if (substr(s, i + 1, 1) == "\"") { cur = cur "\""; i++ }
				else inq = 0
			} else cur = cur c
		} else if (c == "\"") inq = 1
		else if (c == ",") { f[++n] = cur; cur = "" }
		else cur = cur c
	}
	if (inq) fail("unterminated quoted field")
	f[++n] = cur
	return n
}
function hex(s,    i, v, d) {
	v = 0; s = toupper(s)
	for (i = 1; i <= length(s); i++) {
		d = index("0123456789ABCDEF", substr(s, i, 1))
		if (d == 0) fail("Q is not hexadecimal: " s)
		v = v * 16 + d - 1
	}
	return v
}
function bit(v, b) { return int(v / b) % 2 }
# a tic step that puts about 4 tics on a range of r: 1, 2 or 5 times 10^k
function nice(r,    m, x) {
	if (r <= 0) return 1
	m = 1; x = r / 4
	while (m > x) m /= 10
	while (m * 10 <= x) m *= 10
	return x <= m ? m : x <= 2 * m ? 2 * m : x <= 5 * m ? 5 * m : 10 * m
}
# a gnuplot single-quoted string
function gq(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
NR == 1 { next }
{
	sub(/\r$/, "")
	if ($0 == "") next
	n = csv_split($0, f)
	if (n != 9) fail("expected 9 fields, found " n)
	for (i = 1; i <= 9; i++)
		if (i != 2 && i != 3 && f[i] !~ /^-?[0-9]+(\.[0-9]+)?$/)
			fail("field " i " is not a number: " f[i])
	if (f[3] !~ /^[0-9A-Fa-f][0-9A-Fa-f]?$/) fail("Q is not two hex digits: " f[3])
	t = f[1] + 0; q = hex(f[3])
	rows++
	for (i = 4; i <= 9; i++) {
		v = f[i] + 0
		if (rows == 1 || v < lo[i]) lo[i] = v
		if (rows == 1 || v > hi[i]) hi[i] = v
	}
	if (rows == 1) t0 = t
	tmax = t
	# lanes, bottom to top: CAL TRIM BOOST OVL RB LB OB OL (0.6 high when set)
	printf "%s %s %s %s %s %s %s %s", f[1], f[4], f[5], f[6], f[7], f[8], f[9], q > data
	split("1 2 4 32 128 64 16 8", bits, " ")
	for (k = 1; k <= 8; k++) printf " %.1f", (k - 1) + 0.6 * bit(q, bits[k]) > data
	printf "\n" > data
	ev = f[2]
	if (ev != "") print f[1] > ticks
	changed = rows > 1 && q != lastq
	lastq = q
	want = (labels != "none" && changed) || (labels == "all" && ev != "")
	if (changed)
		arrow[++narrow] = t
	if (want) {
		txt = ev
		gsub(/[[:cntrl:]]/, "?", txt) # not from upssim, which writes \xNN
		if (length(txt) > 28) txt = substr(txt, 1, 27) "~"
		nc++
		cx[nc] = t; cev[nc] = txt; cq[nc] = q; cch[nc] = changed
	}
}
END {
	if (bad) exit 1
	if (rows == 0) {
		printf "plot-timeline: %s: no rows after the header\n", src > "/dev/stderr"
		exit 1
	}
	span = tmax - t0
	# Labels closer than about a line of rotated text merge into the
	# one before: a quick flip of Q reads "event  Q=10>08".
	mindx = span * 10 / (0.82 * width)
	for (i = 1; i <= nc; i++) {
		if (nlab > 0 && cx[i] - labx[nlab] < mindx) {
			if (cch[i] && length(labt[nlab]) < 48)
				labt[nlab] = labt[nlab] sprintf(">%02X", cq[i])
			continue
		}
		if (nlab == 300) { dropped++; continue }
		txt = cev[i]
		if (cch[i]) txt = (txt != "" ? txt "  " : "") sprintf("Q=%02X", cq[i])
		nlab++
		labx[nlab] = cx[i]; labt[nlab] = txt
	}
	if (dropped)
		printf "plot-timeline: %s: %d labels left out (at most 300)\n", src, dropped > "/dev/stderr"
	# x is drawn in s, min or h, whichever suits the span
	if (span <= 600) { div = 1; unit = "s" }
	else if (span <= 36000) { div = 60; unit = "min" }
	else { div = 3600; unit = "h" }
	printf "t0 = %.6f\ntmax = %.6f\ntdiv = %d.0\ntunit = \047%s\047\n", t0 / div, tmax / div, div, unit > marks
	# y ranges: from 0 up (autoscaled to a tic) unless all zero; the
	# battery autoscaled unless flat (gnuplot would warn either way)
	printf "yr_rt = \047%s\047\n", (hi[5] > 0 ? "[0:*]" : "[0:1]") > marks
	printf "yr_v = \047%s\047\n", ((hi[6] > 0 || hi[7] > 0) ? "[0:*]" : "[0:1]") > marks
	printf "yr_load = \047%s\047\n", (hi[8] > 0 ? "[0:*]" : "[0:1]") > marks
	printf "yr_batt = \047%s\047\n", (hi[9] > lo[9] ? "[*:*]" : sprintf("[%g:%g]", lo[9] - 0.5, hi[9] + 0.5)) > marks
	# tic steps: charge is 0-100, the rest from their ranges
	printf "step_rt = %g\nstep_v = %g\nstep_load = %g\nstep_batt = %g\n", nice(hi[5]), nice(hi[6] > hi[7] ? hi[6] : hi[7]), nice(hi[8]), nice(hi[9] - lo[9]) > marks
	for (i = 1; i <= narrow; i++)
		printf "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead dt 2 lw 1 lc rgb \047#888888\047 back\n", arrow[i] / div, arrow[i] / div > marks
	for (i = 1; i <= nlab; i++)
		printf "set label %d %s at %.6f, graph 1.03 rotate by 90 left font \047,8\047 tc rgb \047#333333\047\n", 100 + i, gq(labt[i]), labx[i] / div > marks
}' "$csv" || exit 1
touch "$tmp/ticks"

tq=${tmp//\'/\'\'}
cat >"$tmp/plot.gp" <<EOF
set terminal $term
set output '$tq/picture'
set datafile separator whitespace
load '$tq/marks.gp'
EOF
ttitle=${title//\'/\'\'}
cat >>"$tmp/plot.gp" <<EOF
set multiplot title '$ttitle' font ',11'
set lmargin at screen 0.09
set rmargin at screen 0.91
set xrange [t0 : (tmax > t0 ? tmax : t0 + 1.0/tdiv)]
set grid xtics ytics lc rgb '#dddddd' lw 1
set key top right horizontal opaque box lc rgb '#cccccc' font ',8'
set format x ''
set style data steps
D = '$tq/data'
T = '$tq/ticks'

# --- Q register lanes (labels above) ---
set tmargin at screen 0.80
set bmargin at screen 0.655
set yrange [-1.1:8.1]
set ytics ('ev' -0.55, 'CAL' 0.3, 'TRIM' 1.3, 'BOOST' 2.3, 'OVL' 3.3, 'RB' 4.3, 'LB' 5.3, 'OB' 6.3, 'OL' 7.3) font ',8'
set grid noytics
set ylabel 'Q register'
unset key
plot for [k=0:7] D using (\$1/tdiv):(column(9+k)) with steps lw 1.5 lc rgb (k==7 ? '#2a9d2a' : k==6 ? '#d62728' : k==5 ? '#ff7f0e' : k==4 ? '#8c564b' : k==3 ? '#9467bd' : '#1f77b4'), \
     T using (\$1/tdiv):(-1.0):(0):(0.8) with vectors nohead lc rgb '#555555'
unset label
set grid ytics
set key

# --- charge and runtime ---
set tmargin at screen 0.64
set bmargin at screen 0.47
set yrange [0:105]
set ytics 0, 20 font ',9'
set ylabel 'charge (%)'
set y2range @yr_rt
set y2tics 0, step_rt font ',9'
set y2label 'runtime (min)'
plot D using (\$1/tdiv):2 title 'charge %' lw 2 lc rgb '#2a9d2a', \
     D using (\$1/tdiv):3 axes x1y2 title 'runtime min' lw 2 lc rgb '#1f77b4'
unset y2tics
unset y2label

# --- voltages ---
set tmargin at screen 0.455
set bmargin at screen 0.315
set yrange @yr_v
set ytics 0, step_v
set ylabel 'voltage (V)'
plot D using (\$1/tdiv):4 title 'line V' lw 2 lc rgb '#ff7f0e', \
     D using (\$1/tdiv):5 title 'output V' lw 2 dt 2 lc rgb '#9467bd'

# --- load ---
set tmargin at screen 0.30
set bmargin at screen 0.19
set yrange @yr_load
set ytics 0, step_load
set ylabel 'load (%)'
plot D using (\$1/tdiv):6 title 'load %' lw 2 lc rgb '#8c564b'

# --- battery voltage ---
set tmargin at screen 0.175
set bmargin at screen 0.065
set yrange @yr_batt
set ytics step_batt
set ylabel 'battery (V)'
set format x '%g'
set xlabel sprintf('scenario time (%s)', tunit)
plot D using (\$1/tdiv):7 title 'battery V' lw 2 lc rgb '#d62728'
unset multiplot
EOF

if ! gnuplot "$tmp/plot.gp" 2>"$tmp/err"; then
	cat "$tmp/err" >&2
	die 1 "gnuplot failed; nothing written to $out"
fi
# gnuplot warns on stderr without failing; show it
[ ! -s "$tmp/err" ] || cat "$tmp/err" >&2
[ -s "$tmp/picture" ] || die 1 "gnuplot wrote nothing; nothing written to $out"
# whole or not at all: a failed run never leaves half a picture at $out
mv -f -- "$tmp/picture" "$out" || die 1 "$out: cannot write the picture"
