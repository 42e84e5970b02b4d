/**
 * The panes' tab bar: WAI-ARIA tabs that do not move when one becomes bold (each tab reserves
 * its bold width), a « Plus » menu for the tabs that do not fit at 320 px, and tabs hidden when
 * the user's role or the server's setup does not allow them (from `GET /api/v1/me` and
 * `GET /api/v1/models`), so that nobody opens a function only to be refused.
 * @module common/tabs
 */
import { h } from './render.js';

/** Space between two tabs (ui.css `.plume-tabs` gap). */
const TAB_GAP_PX = 2;

let menus = 0;

/**
 * Wires a tab list: buttons with `role="tab"` and `aria-controls`, arrow keys, Home/End, only
 * the selected tab in the Tab order; the tabs that do not fit go into a « Plus » menu.
 * @param {HTMLElement} tablist Element with `role="tablist"` holding the tab buttons.
 * @param {(id: string) => void} [onChange] Called with the panel id when a tab is chosen.
 * @returns {{select: (panelId: string, focus?: boolean) => void, restrict: (refused: Set<string>|null) => number, layout: () => void}}
 */
export function setupTabs(tablist, onChange) {
  const tabs = [...tablist.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) tab.dataset.text = tab.textContent.trim(); // the bold width, reserved by ui.css
  const panelOf = (tab) => tab.getAttribute('aria-controls');
  let allowed = new Set(tabs.map(panelOf));
  let selectedId = null;

  // The « Plus » button sits beside the tab list (a tab list holds only tabs).
  menus += 1;
  const menuId = `tabs-more-${menus}`;
  const menu = h('ul', { id: menuId, className: 'plume-tabs__menu', hidden: true });
  const more = h('button', {
    type: 'button', className: 'plume-tab plume-tabs__more', 'aria-expanded': 'false', 'aria-controls': menuId,
    'aria-label': 'Plus de fonctions', dataset: { text: 'Plus ▾' },
  }, 'Plus ▾');
  const bar = h('div', { className: 'plume-tabbar' });
  tablist.replaceWith(bar);
  bar.append(tablist, h('div', { className: 'plume-tabs__overflow' }, more, menu));

  const openMenu = (open) => {
    menu.hidden = !open;
    more.setAttribute('aria-expanded', String(open));
  };
  more.addEventListener('click', () => {
    openMenu(menu.hidden);
    if (!menu.hidden) menu.querySelector('button')?.focus();
  });
  menu.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation(); // Échap closes the menu here, it does not stop a generation
    openMenu(false);
    more.focus();
  });
  document.addEventListener('click', (event) => {
    if (!bar.contains(event.target)) openMenu(false);
  });

  const usable = () => tabs.filter((tab) => allowed.has(panelOf(tab)));

  /** Shows the tabs that fit, the selected one always among them; the rest go in the menu. */
  const layout = () => {
    const shown = usable();
    for (const tab of tabs) tab.hidden = !allowed.has(panelOf(tab));
    const style = getComputedStyle(bar);
    const inner = bar.clientWidth - parseFloat(style.paddingLeft || '0') - parseFloat(style.paddingRight || '0');
    more.hidden = false;
    const room = inner - more.offsetWidth - TAB_GAP_PX;
    more.hidden = true;
    const widths = new Map(shown.map((tab) => [tab, tab.offsetWidth]));
    const total = (list) => list.reduce((sum, tab) => sum + widths.get(tab) + TAB_GAP_PX, 0);
    let visible = [...shown];
    if (total(visible) > inner) {
      while (visible.length > 1 && total(visible) > room) {
        // Drop the last tab that is not the selected one.
        const drop = [...visible].reverse().find((tab) => panelOf(tab) !== selectedId);
        if (!drop) break;
        visible = visible.filter((tab) => tab !== drop);
      }
    }
    const hiddenTabs = shown.filter((tab) => !visible.includes(tab));
    for (const tab of hiddenTabs) tab.hidden = true;
    more.hidden = hiddenTabs.length === 0;
    if (more.hidden) openMenu(false);
    menu.replaceChildren(...hiddenTabs.map((tab) => h('li', null, h('button', {
      type: 'button', className: 'plume-tabs__item', dataset: { panel: panelOf(tab) },
      on: { click: () => { openMenu(false); select(panelOf(tab), true); } },
    }, tab.dataset.text))));
  };

  const select = (panelId, focus = false) => {
    selectedId = panelId;
    for (const tab of tabs) {
      const selected = panelOf(tab) === panelId;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(panelOf(tab));
      if (panel) panel.hidden = !selected;
    }
    layout();
    if (focus) tabs.find((tab) => panelOf(tab) === panelId)?.focus();
    if (onChange) onChange(panelId);
  };

  tablist.addEventListener('click', (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(panelOf(tab));
  });
  tablist.addEventListener('keydown', (event) => {
    const list = usable();
    const current = list.indexOf(document.activeElement);
    if (current < 0) return;
    let next = null;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (current + 1) % list.length;
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = (current - 1 + list.length) % list.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = list.length - 1;
    if (next === null) return;
    event.preventDefault();
    select(panelOf(list[next]), true);
  });

  /**
   * Hides the tabs whose panel id is in `refused` (null: none); a tab no rule names stays.
   * The selected tab moves to the first allowed one when it is refused.
   * @param {Set<string>|null} refused
   * @returns {number} how many tabs are left.
   */
  const restrict = (refused) => {
    allowed = new Set(tabs.map(panelOf).filter((id) => !(refused && refused.has(id))));
    for (const tab of tabs) {
      if (!allowed.has(panelOf(tab))) {
        tab.dataset.unavailable = 'true';
        const panel = document.getElementById(panelOf(tab));
        if (panel) panel.hidden = true;
      } else {
        delete tab.dataset.unavailable;
      }
    }
    const first = usable()[0];
    if (!allowed.has(selectedId) && first) select(panelOf(first));
    else layout();
    return allowed.size;
  };

  if (typeof ResizeObserver === 'function') new ResizeObserver(() => layout()).observe(bar);
  const initial = tabs.find((tab) => tab.getAttribute('aria-selected') === 'true') || tabs[0];
  if (initial) select(panelOf(initial));
  return { select, restrict, layout };
}

/**
 * The panels a user may not open, from `/me` (tasks and roles) and `/models` (what the server
 * has set up). `needs` maps a panel id to `{task}` (a task of `/me`'s list), `{roles}` (any of
 * these roles), and optionally `model: true` when the server must have a model for that task;
 * a panel `needs` does not name is never refused here.
 * Returns null (refuse nothing) when `/me` could not be read: the server still refuses.
 * @param {object|null} me
 * @param {object|null} models
 * @param {Object<string, {task?: string, roles?: string[], model?: boolean}>} needs
 * @returns {Set<string>|null}
 */
export function refusedPanels(me, models, needs) {
  if (!me || !Array.isArray(me.tasks)) return null;
  const tasks = new Set(me.tasks);
  const roles = new Set(me.roles || []);
  const served = new Set();
  for (const model of (models && models.models) || []) for (const task of model.tasks || []) served.add(task);
  const refused = new Set();
  for (const [panelId, need] of Object.entries(needs)) {
    if ((need.task && !tasks.has(need.task))
      || (need.roles && !need.roles.some((role) => roles.has(role)))
      // A server with no model at all says so in its banner; one without this task's model hides it.
      || (need.model && models && models.configured && !served.has(need.task))) refused.add(panelId);
  }
  return refused;
}
