// Injected into a copy of a report by tests/test_report_browser.py: lists elements wider than their
// container (scrollWidth > clientWidth, or a right edge past the parent's) and a few layout facts.
(function () {
  const bad = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) bad.push('page: scrollWidth ' + root.scrollWidth + ' > ' + root.clientWidth);
  for (const el of document.body.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if ((el.closest('svg') && tag !== 'svg') || tag === 'script') continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'inline' || cs.display === 'none') continue;
    const name = tag + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      bad.push(name + ': scrollWidth ' + el.scrollWidth + ' > clientWidth ' + el.clientWidth);
    const parent = el.parentElement;
    if (parent && parent !== root) {
      const r = el.getBoundingClientRect(), p = parent.getBoundingClientRect();
      if (r.width > 0 && r.right > p.right + 1) bad.push(name + ': right edge ' + Math.round(r.right) + ' beyond its container ' + Math.round(p.right));
    }
  }
  const facts = [];
  for (const box of document.querySelectorAll('.map-and-legend')) {
    const map = box.querySelector('svg').getBoundingClientRect(), legend = box.querySelector('.legend-box').getBoundingClientRect();
    facts.push('legend ' + (legend.left >= map.right ? 'beside' : 'under') + ' the map');
  }
  for (const el of document.querySelectorAll('.membar-detail, .legend li, svg.node-map text')) {
    const fs = parseFloat(getComputedStyle(el).fontSize), scale = el.closest('svg') ? el.closest('svg').getBoundingClientRect().width / el.closest('svg').viewBox.baseVal.width : 1;
    facts.push('font ' + (fs * scale).toFixed(1));
  }
  const out = document.createElement('pre');
  out.id = 'layout-report';
  out.textContent = 'LAYOUT-BEGIN\n' + bad.join('\n') + '\nFACTS\n' + facts.join('\n') + '\nLAYOUT-END';
  document.body.appendChild(out);
})();
