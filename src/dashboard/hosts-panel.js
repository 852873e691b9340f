// The hosts panel: each host's used/total capacity and the deployments it runs. Only the
// operator organisation's snapshot holds hosts; for everyone else the panel stays hidden.
// Its cells (meter, text) are the ones the deployments table uses too: one definition of each.

/** A table cell with a used/total bar, read out as "`used` of `total` `unit` used". */
export function meter(used, total, unit) {
  const td = document.createElement('td');
  const wrap = document.createElement('div');
  wrap.className = 'seats';
  const bar = document.createElement('div');
  bar.className = 'bar';
  bar.setAttribute('role', 'meter');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(total));
  bar.setAttribute('aria-valuenow', String(used));
  bar.setAttribute('aria-label', `${used} of ${total} ${unit} used`);
  const fill = document.createElement('span');
  fill.style.width = `${total === 0 ? 0 : Math.round((100 * used) / total)}%`;
  bar.append(fill);
  const text = document.createElement('span');
  text.textContent = `${used}/${total}`;
  wrap.append(bar, text);
  td.append(wrap);
  return td;
}

export function text(value, className) {
  const td = document.createElement('td');
  td.textContent = value;
  if (className) td.className = className;
  return td;
}

const STATE_CLASS = { active: 'status-ready', draining: 'status-other', down: 'status-bad' };

/** Fills `section` (its tbody #hosts) from the snapshot; hides it when there are no hosts. */
export function renderHosts(section, tbody, snapshot) {
  const hosts = snapshot.hosts ?? [];
  section.hidden = hosts.length === 0;
  tbody.replaceChildren(
    ...hosts.map((h) => {
      const tr = document.createElement('tr');
      const own = snapshot.deployments.filter((d) => d.host === h.name).map((d) => d.request_id);
      const containers =
        own.length === h.deployment_count
          ? own.join(', ')
          : [...own, `${h.deployment_count - own.length} of other organisations`].join(', ');
      tr.append(
        text(h.name),
        text(h.state, STATE_CLASS[h.state]),
        text([h.city, h.country].filter(Boolean).join(', ') || '—'),
        meter(h.used_cpu_units, h.cpu_units, 'CPU units'),
        meter(h.used_memory_mb, h.memory_mb, 'MB'),
        meter(h.used_ports, h.ports, 'ports'),
        text(h.deployment_count === 0 ? '—' : containers),
      );
      if (h.state_detail) tr.title = h.state_detail;
      return tr;
    }),
  );
}
