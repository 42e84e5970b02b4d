/**
 * The structured fields of a mail (`fields` event of `mail-summary`), checked against the
 * mail's own text.
 *
 * A model can misread « 24/01234 » as « 24/01243 » or invent a date. A number, a name or a
 * date is shown as found only when it appears in the message (ignoring case, accents,
 * spaces and punctuation; dates in any usual French writing); otherwise it is shown
 * « à vérifier ». Nothing here is trusted: fields are rendered as text by the pane.
 * @module outlook/fields
 */

/** Case-number kinds, in the order the pane lists them, with their French labels. */
export const NUMBER_KINDS = [
  ['rg', 'N° RG'],
  ['parquet', 'N° parquet'],
  ['pourvoi', 'N° de pourvoi'],
  ['autre', 'Autre numéro'],
];

const MONTHS = ['janvier', 'fevrier', 'mars', 'avril', 'mai', 'juin', 'juillet', 'aout',
  'septembre', 'octobre', 'novembre', 'decembre'];

/**
 * Lower case, no accents, apostrophes unified, whitespace collapsed.
 * @param {string} text
 * @returns {string}
 */
export function fold(text) {
  return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[’‘`]/g, "'").replace(/\u00a0|\u202f/g, ' ').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Letters and digits only: « RG n° 24/01234 » → « rgn2401234 ». */
function compact(text) {
  return fold(text).replace(/[^a-z0-9]/g, '');
}

/**
 * Day, month and year of a date written as ISO, « 12/03/2026 » or « 12 mars 2026 ».
 * @param {string} value
 * @returns {{day: number, month: number, year: number|null}|null}
 */
export function parseDate(value) {
  const text = fold(value);
  let m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (m) return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  m = /(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})/.exec(text);
  if (m) {
    const year = Number(m[3]);
    return { day: Number(m[1]), month: Number(m[2]), year: year < 100 ? 2000 + year : year };
  }
  m = /(\d{1,2})(?:er)?\s+([a-z]+)\.?(?:\s+(\d{4}))?/.exec(text);
  if (m) {
    const month = MONTHS.findIndex((name) => name.startsWith(m[2].slice(0, 3)) && m[2].length >= 3);
    if (month >= 0) return { day: Number(m[1]), month: month + 1, year: m[3] ? Number(m[3]) : null };
  }
  return null;
}

function dateVariants({ day, month, year }) {
  const dd = String(day).padStart(2, '0');
  const mm = String(month).padStart(2, '0');
  const dayWords = day === 1 ? ['1er', '1'] : [String(day)];
  const monthName = MONTHS[month - 1];
  const variants = [];
  for (const sep of ['/', '.', '-']) {
    for (const d of [dd, String(day)]) {
      for (const m of [mm, String(month)]) {
        variants.push(year ? `${d}${sep}${m}${sep}${year}` : `${d}${sep}${m}`);
        if (year) variants.push(`${d}${sep}${m}${sep}${String(year).slice(2)}`);
      }
    }
  }
  if (year) variants.push(`${year}-${mm}-${dd}`);
  for (const d of dayWords) variants.push(`${d} ${monthName}${year ? ` ${year}` : ''}`);
  return variants;
}

/**
 * Whether a date appears in the text, in any usual French writing.
 * @param {string} value
 * @param {string} text
 * @returns {boolean}
 */
export function dateInText(value, text) {
  const parsed = parseDate(value);
  const haystack = fold(text);
  if (!parsed) return Boolean(value) && haystack.includes(fold(value));
  return dateVariants(parsed).some((variant) => {
    const at = haystack.indexOf(variant);
    // « 2/03/2026 » must not match inside « 12/03/2026 ».
    return at >= 0 && !/[0-9]/.test(haystack[at - 1] || '') && !/[0-9]/.test(haystack[at + variant.length] || '');
  });
}

/**
 * Whether a number or a name appears in the text (case, accents, spaces and punctuation aside).
 * @param {string} value
 * @param {string} text
 * @returns {boolean}
 */
export function valueInText(value, text) {
  const needle = compact(value);
  return needle.length > 0 && compact(text).includes(needle);
}

function asList(value) {
  if (value === null || value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function str(value) {
  return typeof value === 'string' ? value.trim() : (typeof value === 'number' ? String(value) : '');
}

/** A value is shown as found only if the pane finds it too: the server's flag alone is not enough. */
function found(serverVerified, pane) {
  return serverVerified !== false && pane;
}

/**
 * The fields in one shape, each marked `found` (in the mail) or not (« à vérifier »).
 *
 * Reads the gateway's `fields` event: `parties` [{value, role, verified}], `case_numbers`
 * [{kind: rg|parquet|pourvoi|autre, value, verified}], `dates` [{value, iso, label,
 * deadline, verified}], `requested_action` {value, verified} or null, `complete` and a
 * `message` when the model's answer could not be read. Each value is looked up again in
 * the mail here (dates in any usual writing), so the pane never shows as certain what it
 * cannot see in the message itself.
 * @param {object} raw
 * @param {string} mailText subject and body the fields were taken from
 * @returns {{parties: object[], numbers: object[], dates: object[], action: object|null, message: string|null}}
 */
export function checkFields(raw, mailText) {
  const fields = raw && typeof raw === 'object' ? raw : {};
  const parties = asList(fields.parties).map((entry) => {
    const item = entry && typeof entry === 'object' ? entry : { value: entry };
    const name = str(item.value);
    return name ? { name, role: str(item.role), found: found(item.verified, valueInText(name, mailText)) } : null;
  }).filter(Boolean);

  const labels = Object.fromEntries(NUMBER_KINDS);
  const numbers = asList(fields.case_numbers).map((entry) => {
    const item = entry && typeof entry === 'object' ? entry : { value: entry };
    const value = str(item.value);
    const kind = labels[item.kind] ? item.kind : 'autre';
    return value ? { kind, label: labels[kind], value, found: found(item.verified, valueInText(value, mailText)) } : null;
  }).filter(Boolean);
  numbers.sort((a, b) => NUMBER_KINDS.findIndex(([k]) => k === a.kind) - NUMBER_KINDS.findIndex(([k]) => k === b.kind));

  const dates = asList(fields.dates).map((entry) => {
    const item = entry && typeof entry === 'object' ? entry : { value: entry };
    const value = str(item.value);
    if (!value) return null;
    const iso = str(item.iso);
    const inMail = dateInText(value, mailText) || (iso !== '' && dateInText(iso, mailText));
    return {
      kind: item.deadline ? 'delai' : 'audience', date: iso || value, written: value,
      label: str(item.label), found: found(item.verified, inMail),
    };
  }).filter(Boolean);

  const actionItem = fields.requested_action;
  const actionText = str(actionItem && typeof actionItem === 'object' ? actionItem.value : actionItem);
  const action = actionText
    ? { text: actionText, found: found(actionItem && actionItem.verified, fold(mailText).includes(fold(actionText))) }
    : null;
  const message = fields.complete === false ? str(fields.message) || null : null;
  return { parties, numbers, dates, action, message };
}

/**
 * A JavaScript Date at 9:00 local time for a checked date, or null when it has no year.
 * @param {string} value
 * @returns {Date|null}
 */
export function toLocalDate(value) {
  const parsed = parseDate(value);
  if (!parsed || !parsed.year) return null;
  const date = new Date(parsed.year, parsed.month - 1, parsed.day, 9, 0, 0);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * « 12/03/2026 » from any accepted writing (the value itself when it is not a date).
 * @param {string} value
 * @returns {string}
 */
export function formatFrenchDate(value) {
  const parsed = parseDate(value);
  if (!parsed) return value;
  const dd = String(parsed.day).padStart(2, '0');
  const mm = String(parsed.month).padStart(2, '0');
  return parsed.year ? `${dd}/${mm}/${parsed.year}` : `${dd}/${mm}`;
}
