// The script and style embedded in every goperf SVG. The script reads the data object D written before it
// (names, and per <rect>: name index n, depth d, start x and width v in sample units, flags k, base b) and
// keeps zoom and search in location.hash ("#zoom=I&search=RE") so a view can be shared as a link.
#include "flamegraph/svg_writer.h"

namespace goperf::flamegraph {

const char* const kSvgStyle = R"CSS(
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: #000; }
#title { text-anchor: middle; font-size: 17px; }
#subtitle { text-anchor: middle; fill: #555; }
#search, #matched { text-anchor: end; }
.button { cursor: pointer; fill: #2255aa; }
.button:hover { text-decoration: underline; }
.hide { display: none; }
#frames rect { cursor: pointer; }
#frames rect:hover { stroke: #000; stroke-width: 0.5; }
#frames rect.i { stroke: #fff; stroke-width: 1; stroke-dasharray: 3 2; }
#frames rect.parent { opacity: 0.5; }
#labels text { pointer-events: none; font-size: 11px; }
#tip { pointer-events: none; }
#tipbox { fill: #ffffe8; stroke: #888; stroke-width: 0.5; }
#legend text { font-size: 11px; fill: #333; }
)CSS";

const char* const kSvgScript = R"JS(
"use strict";
var svgns = "http://www.w3.org/2000/svg";
var KINDS = ["Go: program", "Go: standard library", "Go: runtime", "cgo / C", "kernel", "unknown", "goroutine state"];
var N = D.n.length, rects, parent, end, curx, curw, fills, painted = [], zoomed = -1, searchre = null;
var details, matchedtext, unzoombtn, searchbtn, tip, tipbox, tiptext, labels;

function el(id) { return document.getElementById(id); }

function fmt(v) {
  var u = D.unit, a = Math.abs(v);
  if (u === "nanoseconds") {
    if (a >= 1e9) return (v / 1e9).toFixed(2) + " s";
    if (a >= 1e6) return (v / 1e6).toFixed(2) + " ms";
    if (a >= 1e3) return (v / 1e3).toFixed(2) + " \u00b5s";
    return v + " ns";
  }
  if (u === "bytes") {
    if (a >= 1 << 30) return (v / (1 << 30)).toFixed(2) + " GiB";
    if (a >= 1 << 20) return (v / (1 << 20)).toFixed(2) + " MiB";
    if (a >= 1 << 10) return (v / (1 << 10)).toFixed(2) + " KiB";
    return v + " B";
  }
  var s = String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return s + (u === "count" || u === "" ? (D.vtype === "samples" || D.vtype === "" ? " samples" : " " + D.vtype) : " " + u);
}
function pct(v, t) { return t > 0 ? (100 * v / t).toFixed(2) + "%" : "0%"; }

// Tooltip lines for frame i: name; value and share; kind (and inlined), or the change in a diff.
function describe(i) {
  var name = D.names[D.n[i]], k = D.k[i], lines = [name];
  lines.push(fmt(D.v[i]) + ", " + pct(D.v[i], D.total) + " of all" +
             (zoomed >= 0 && zoomed !== i ? ", " + pct(D.v[i], D.v[zoomed]) + " of zoomed frame" : ""));
  if (D.b) {
    var now = D.v[i] / D.total, was = D.base_total > 0 ? D.b[i] / D.base_total : 0;
    var d = (now - was) * 100;
    lines.push("change: " + (d >= 0 ? "+" : "") + d.toFixed(2) + " pp (base " + (was * 100).toFixed(2) +
               "%, " + fmt(D.b[i]) + ")");
  } else if (k & 16) {
    lines.push("narrow frames merged; zoom in a parent to see them");
  } else {
    lines.push(KINDS[k & 7] + ((k & 8) ? ", inlined" : ""));
  }
  return lines;
}

function showtip(i, evt) {
  var lines = describe(i), w = 0;
  for (var j = 0; j < 3; j++) {
    tiptext[j].textContent = lines[j] || "";
    w = Math.max(w, tiptext[j].getComputedTextLength());
  }
  var p = svgpoint(evt), h = 3 * 15 + 8;
  var x = p.x + 12, y = p.y + 16;
  if (x + w + 12 > D.width) x = Math.max(0, p.x - w - 20);
  var H = +document.documentElement.getAttribute("height");
  if (y + h > H) y = Math.max(0, p.y - h - 8);
  tipbox.setAttribute("x", x); tipbox.setAttribute("y", y);
  tipbox.setAttribute("width", w + 12); tipbox.setAttribute("height", h);
  for (var j = 0; j < 3; j++) { tiptext[j].setAttribute("x", x + 6); tiptext[j].setAttribute("y", y + 17 + 15 * j); }
  tip.setAttribute("visibility", "visible");
  details.textContent = lines[0] + " (" + lines[1] + ")";
}
function hidetip() { tip.setAttribute("visibility", "hidden"); details.textContent = " "; }

function svgpoint(evt) {
  var svg = document.documentElement, m = svg.getScreenCTM();
  if (!m || !svg.createSVGPoint) return { x: evt.clientX, y: evt.clientY };
  var pt = svg.createSVGPoint();
  pt.x = evt.clientX; pt.y = evt.clientY;
  return pt.matrixTransform(m.inverse());
}

function place(i, x, w) {
  if (x === curx[i] && w === curw[i]) return;
  var r = rects[i];
  if (w < 0) { r.style.display = "none"; }
  else {
    if (curw[i] < 0) r.style.display = "";
    r.setAttribute("x", x.toFixed(2)); r.setAttribute("width", w.toFixed(2));
  }
  curx[i] = x; curw[i] = w;
}

function relabel() {
  while (labels.firstChild) labels.removeChild(labels.firstChild);
  var frag = document.createDocumentFragment(), minw = 3 * D.charw;
  for (var i = 0; i < N; i++) {
    var w = curw[i];
    if (w < minw) continue;
    var fit = Math.floor((w - 6) / D.charw);
    if (fit < 3) continue;
    var name = D.names[D.n[i]];
    if (name.length > fit) name = name.substring(0, fit - 2) + "..";
    var t = document.createElementNS(svgns, "text");
    t.setAttribute("x", (curx[i] + 3).toFixed(2));
    t.setAttribute("y", +rects[i].getAttribute("y") + D.frameh - 5);
    t.textContent = name;
    frag.appendChild(t);
  }
  labels.appendChild(frag);
}

// Zoom on frame z: its subtree [z, end[z]) spans the width, its ancestors too (dimmed), the rest hides.
function zoom(z) {
  if (z < 0 || z >= N) return unzoom();
  zoomed = z;
  var avail = D.width - 2 * D.padx, x0 = D.x[z], sc = avail / Math.max(D.v[z], 1);
  var anc = new Uint8Array(N);
  for (var a = parent[z]; a >= 0; a = parent[a]) anc[a] = 1;
  for (var i = 0; i < N; i++) {
    if (i >= z && i < end[z]) { place(i, D.padx + (D.x[i] - x0) * sc, D.v[i] * sc); rects[i].classList.remove("parent"); }
    else if (anc[i]) { place(i, D.padx, avail); rects[i].classList.add("parent"); }
    else place(i, 0, -1);
  }
  unzoombtn.classList.remove("hide");
  relabel();
  savestate();
}

function unzoom() {
  zoomed = -1;
  var sc = (D.width - 2 * D.padx) / Math.max(D.total, 1);
  for (var i = 0; i < N; i++) { place(i, D.padx + D.x[i] * sc, D.v[i] * sc); rects[i].classList.remove("parent"); }
  unzoombtn.classList.add("hide");
  relabel();
  savestate();
}

// Paints frames whose name matches, and reports the matched share of all samples: the union of the
// matched frames' ranges, so a match nested in another match counts once.
function search(re) {
  var rx;
  try { rx = new RegExp(re); } catch (e) { matchedtext.textContent = "bad regex: " + e.message; return; }
  clearsearch(true);
  searchre = re;
  var hit = [], names = D.names, memo = new Int8Array(names.length);
  for (var i = 0; i < N; i++) {
    var ni = D.n[i], m = memo[ni];
    if (m === 0) { m = rx.test(names[ni]) ? 1 : -1; memo[ni] = m; }
    if (m > 0 && !(D.k[i] & 16)) {
      fills[i] = rects[i].getAttribute("fill");
      rects[i].setAttribute("fill", "rgb(230,0,230)");
      hit.push(i);
    }
  }
  painted = hit.slice();
  hit.sort(function (a, b) { return D.x[a] - D.x[b] || D.v[b] - D.v[a]; });
  var covered = 0, reach = -1;
  for (var j = 0; j < hit.length; j++) {
    var s = D.x[hit[j]], e = s + D.v[hit[j]];
    if (e <= reach) continue;
    covered += e - Math.max(s, reach);
    reach = e;
  }
  matchedtext.textContent = "Matched: " + pct(covered, D.total) + " (" + hit.length + " frames)";
  searchbtn.textContent = "Reset Search";
  savestate();
}

function clearsearch(keepstate) {
  painted.forEach(function (i) { rects[i].setAttribute("fill", fills[i]); });
  painted = [];
  searchre = null;
  matchedtext.textContent = " ";
  searchbtn.textContent = "Search";
  if (!keepstate) savestate();
}

function askSearch() {
  if (searchre !== null) { clearsearch(); return; }
  var re = window.prompt("Search for (regular expression):", "");
  if (re) search(re);
}

function savestate() {
  var parts = [];
  if (zoomed >= 0) parts.push("zoom=" + zoomed);
  if (searchre !== null) parts.push("search=" + encodeURIComponent(searchre));
  var h = parts.length ? "#" + parts.join("&") : " ";
  try { history.replaceState(null, "", h === " " ? location.pathname + location.search : h); }
  catch (e) { try { location.hash = h; } catch (e2) {} }
}

function loadstate() {
  var s = (location.hash || "").replace(/^#/, "") + "&" + (location.search || "").replace(/^\?/, "");
  var z = -1, re = null;
  s.split("&").forEach(function (kv) {
    var p = kv.indexOf("="); if (p < 0) return;
    var k = kv.substring(0, p), v = decodeURIComponent(kv.substring(p + 1));
    if (k === "zoom" || k === "z") z = parseInt(v, 10);
    if (k === "search" || k === "s") re = v;
  });
  if (z >= 0 && z < N) zoom(z);
  if (re) search(re);
}

function legend() {
  var g = el("legend"), x = D.padx, y = D.fontsize * 3 + 14;
  var items = D.b ? [["#ff4040", "grew"], ["#4040ff", "shrank"], ["#ebebeb", "unchanged"]]
                  : [["#4fc273", KINDS[0]], ["#e6d350", KINDS[1]], ["#ee5050", KINDS[2]], ["#b48ce6", KINDS[3]],
                     ["#f29c1c", KINDS[4]], ["#bbbbbb", KINDS[5]]];
  items.forEach(function (it) {
    var r = document.createElementNS(svgns, "rect");
    r.setAttribute("x", x); r.setAttribute("y", y - 9); r.setAttribute("width", 10); r.setAttribute("height", 10);
    r.setAttribute("fill", it[0]); g.appendChild(r);
    var t = document.createElementNS(svgns, "text");
    t.setAttribute("x", x + 14); t.setAttribute("y", y); t.textContent = it[1]; g.appendChild(t);
    x += 26 + t.getComputedTextLength();
  });
  if (!D.b) {
    var t = document.createElementNS(svgns, "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.textContent = "dashed outline: inlined"; g.appendChild(t);
  }
}

function fg_init() {
  details = el("details"); matchedtext = el("matched"); unzoombtn = el("unzoom"); searchbtn = el("search");
  tip = el("tip"); tipbox = el("tipbox"); tiptext = [el("tip0"), el("tip1"), el("tip2")]; labels = el("labels");
  rects = el("frames").getElementsByTagName("rect");
  parent = new Int32Array(N); end = new Int32Array(N);
  curx = new Float64Array(N); curw = new Float64Array(N); fills = new Array(N);
  // Pre-order: a frame's parent is the nearest earlier frame one level up; its subtree ends at the
  // next frame at its depth or above.
  var stack = [];
  for (var i = 0; i < N; i++) {
    var d = D.d[i];
    while (stack.length && D.d[stack[stack.length - 1]] >= d) end[stack.pop()] = i;
    parent[i] = stack.length ? stack[stack.length - 1] : -1;
    stack.push(i);
    rects[i].fg = i;
  }
  // The positions the writer used, from the data rather than by reading back every attribute.
  var sc = (D.width - 2 * D.padx) / Math.max(D.total, 1);
  for (var i = 0; i < N; i++) { curx[i] = D.padx + D.x[i] * sc; curw[i] = D.v[i] * sc; }
  while (stack.length) end[stack.pop()] = N;
  var frames = el("frames");
  frames.addEventListener("mousemove", function (e) { if (e.target.fg !== undefined) showtip(e.target.fg, e); });
  frames.addEventListener("mouseout", hidetip);
  frames.addEventListener("click", function (e) { if (e.target.fg !== undefined) zoom(e.target.fg); });
  unzoombtn.addEventListener("click", unzoom);
  searchbtn.addEventListener("click", askSearch);
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F")) { e.preventDefault(); askSearch(); }
    else if (e.key === "Escape") { if (searchre !== null) clearsearch(); if (zoomed >= 0) unzoom(); }
  });
  legend();
  loadstate();
  window.flamegraph = { zoom: zoom, unzoom: unzoom, search: search, clearsearch: clearsearch };
}
)JS";

}  // namespace goperf::flamegraph
