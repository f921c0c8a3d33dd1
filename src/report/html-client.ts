/**
 * The treemap's script, inlined into the report. The layout is d3-hierarchy's treemap (inlined beside it); this only
 * draws one absolutely positioned div per visible node (VIEW_DEPTH levels below the zoomed node), shows a tooltip,
 * zooms on click and zooms out through the breadcrumb. Strings from the data only ever go through textContent.
 */
export const VIEW_DEPTH = 3;

export const FATE_COLOURS: Readonly<Record<string, readonly [number, number]>> = {
  kept: [212, 55],
  sideloaded: [28, 80],
  layer: [174, 45],
  model: [125, 40],
  pruned: [220, 6],
};

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var KINDS = data.kinds, FATES = data.fates, COLOURS = data.colours, VIEW_DEPTH = data.viewDepth;
  var box = document.getElementById('treemap');
  var crumbs = document.getElementById('crumbs');
  var tip = document.getElementById('tip');
  var byId = {}, current = null;
  var LIMIT_NAMES = { unzipped: 'the unzipped limit', tmp: 'the /tmp limit' };
  var FATE_NAMES = { kept: 'kept: ships in function.zip', sideloaded: 'sideloaded into /tmp',
    layer: 'provided elsewhere (a layer or the handler)', model: 'model', pruned: 'pruned: not shipped' };

  function prep(node, parent, id) {
    node.id = id; node.parent = parent; byId[id] = node;
    if (node.t === undefined) node.t = parent ? parent.t : -1;
    if (node.l === undefined) node.l = parent ? parent.l : null;
    if (node.f === undefined) node.f = 1;
    var kids = node.c || [];
    for (var i = 0; i < kids.length; i++) prep(kids[i], node, id + '.' + i);
  }
  prep(data.tree, null, 'r');

  function fmt(bytes) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], v = Math.abs(bytes), u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    if (u > 0 && u < units.length - 1 && Number(v.toFixed(v >= 100 ? 0 : 1)) >= 1024) { v /= 1024; u++; }
    return (bytes < 0 ? '-' : '') + v.toFixed(u === 0 || v >= 100 ? 0 : 1) + ' ' + units[u];
  }
  function colour(node, depth) {
    var c = COLOURS[FATES[node.t]] || [0, 0];
    var light = [0, 34, 46, 58, 68][Math.min(depth, 4)];
    return 'hsl(' + c[0] + ',' + c[1] + '%,' + light + '%)';
  }
  function pathOf(node) {
    var names = [];
    for (var n = node; n && n.parent; n = n.parent) names.unshift(n.n);
    return names.join(' / ');
  }
  function cut(node, depth) {
    var view = { ref: node };
    if (depth < VIEW_DEPTH && node.c) view.c = node.c.map(function (ch) { return cut(ch, depth + 1); });
    return view;
  }

  function render(focus) {
    current = focus;
    var w = box.clientWidth, h = box.clientHeight;
    var root = d3.hierarchy(cut(focus, 0), function (d) { return d.c; })
      .sum(function (d) { return d.c ? 0 : d.ref.b; });
    d3.treemap().size([w, h]).round(true).paddingInner(1).paddingOuter(2)
      .paddingTop(function (d) { return d.depth === 0 ? 2 : (d.y1 - d.y0 > 34 && d.x1 - d.x0 > 44 ? 15 : 2); })(root);
    var frag = document.createDocumentFragment(), count = 0;
    root.each(function (d) {
      if (d.depth === 0) return;
      var node = d.data.ref, el = document.createElement('div');
      var isGroup = Boolean(d.children);
      el.className = 'node ' + (isGroup ? 'group' : 'leaf') + (node.c ? ' zoomable' : '') +
        (node.p && data.changed[node.p] ? ' changed' : '');
      el.style.left = d.x0 + 'px';
      el.style.top = d.y0 + 'px';
      el.style.width = Math.max(0, d.x1 - d.x0) + 'px';
      el.style.height = Math.max(0, d.y1 - d.y0) + 'px';
      el.style.background = colour(node, d.depth);
      el.style.color = d.depth === 1 ? '#fff' : '#111';
      el.setAttribute('data-id', node.id);
      el.setAttribute('data-depth', String(d.depth));
      if (d.x1 - d.x0 > 44 && d.y1 - d.y0 > 14) {
        var label = document.createElement('span');
        label.className = 'label';
        label.textContent = node.n + ' ' + fmt(node.b);
        el.appendChild(label);
      }
      frag.appendChild(el);
      count++;
    });
    box.replaceChildren(frag);
    box.setAttribute('data-focus', focus.id);
    box.setAttribute('data-count', String(count));
    renderCrumbs(focus);
  }

  function renderCrumbs(focus) {
    var chain = [];
    for (var n = focus; n; n = n.parent) chain.unshift(n);
    var frag = document.createDocumentFragment();
    chain.forEach(function (node, i) {
      if (i > 0) {
        var sep = document.createElement('span');
        sep.className = 'sep';
        sep.textContent = '›';
        frag.appendChild(sep);
      }
      var el;
      if (i === chain.length - 1) {
        el = document.createElement('span');
        el.className = 'here crumb';
        el.setAttribute('aria-current', 'location');
      } else {
        el = document.createElement('button');
        el.type = 'button';
        el.className = 'crumb';
        el.addEventListener('click', function () { render(node); });
      }
      el.setAttribute('data-id', node.id);
      el.textContent = node.n + ' · ' + fmt(node.b);
      el.title = pathOf(node) || node.n;
      frag.appendChild(el);
    });
    crumbs.replaceChildren(frag);
  }

  function line(cls, text) {
    var div = document.createElement('div');
    if (cls) div.className = cls;
    div.textContent = text;
    return div;
  }
  function showTip(node, x, y) {
    var parts = [line('t-name', node.n)];
    var where = pathOf(node.parent);
    if (where) parts.push(line('', 'in ' + where));
    parts.push(line('', fmt(node.b) + ' · ' + node.f.toLocaleString('en-US') + (node.f === 1 ? ' file' : ' files')));
    if (node.v) parts.push(line('', 'version ' + node.v));
    parts.push(line('', FATE_NAMES[FATES[node.t]] || 'everything measured'));
    if (node.l && data.limits[node.l]) {
      var max = data.limits[node.l];
      var share = (100 * node.b / max).toFixed(1) + '% of ' + LIMIT_NAMES[node.l];
      parts.push(line('t-share', share + ' (' + fmt(max) + ')'));
    } else if (node.t >= 0) parts.push(line('t-share', 'not shipped: counts against no limit'));
    if (node.p && data.changed[node.p]) {
      parts.push(line('t-change', 'changed against the base: ' + data.changed[node.p]));
    }
    if (node.o) parts.push(line('t-note', node.o));
    tip.replaceChildren.apply(tip, parts);
    tip.style.display = 'block';
    var r = tip.getBoundingClientRect();
    tip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - r.width - 8)) + 'px';
    tip.style.top = Math.max(4, Math.min(y + 14, window.innerHeight - r.height - 8)) + 'px';
  }

  box.addEventListener('click', function (ev) {
    var el = ev.target.closest('.node');
    if (!el) return;
    var node = byId[el.getAttribute('data-id')];
    var target = node.c ? node : node.parent;
    if (target && target !== current) render(target);
  });
  box.addEventListener('mousemove', function (ev) {
    var el = ev.target.closest('.node');
    if (!el) { tip.style.display = 'none'; return; }
    showTip(byId[el.getAttribute('data-id')], ev.clientX, ev.clientY);
  });
  box.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  document.addEventListener('keydown', function (ev) {
    if ((ev.key === 'Escape' || ev.key === 'Backspace') && current && current.parent) {
      ev.preventDefault();
      render(current.parent);
    }
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { render(current); });
  });
  render(data.tree);
})();
`;
