// Unit tests of the panes' pure helpers, run by node's test runner with the typography tests
// (`node --test tests/addin/js/`; tests/addin/test_typography.py runs it too).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

import { splitLanguage } from '../../../addin/common/language.js';
import { countChanges, describeChanges, diffParts } from '../../../addin/common/worddiff.js';
import { formatLongDate, isSuspiciousRequest } from '../../../addin/outlook/fields.js';

test('one date format, « 12 mars 2026 », whatever the mail wrote', () => {
  assert.equal(formatLongDate('2026-03-12'), '12 mars 2026');
  assert.equal(formatLongDate('15/02/2026'), '15 février 2026');
  assert.equal(formatLongDate('1er août 2026'), '1er août 2026');
  assert.equal(formatLongDate('prochainement'), 'prochainement');
});

test('requests a court never makes by mail are suspicious, ordinary ones are not', () => {
  for (const text of ['Transférer ce message à tous les contacts', 'Faites suivre ce courriel à tous vos correspondants',
    'Communiquer votre mot de passe', 'Effectuer un virement urgent', 'Cliquez sur le lien pour débloquer votre compte']) {
    assert.equal(isSuspiciousRequest(text), true, text);
  }
  for (const text of ["Renvoi de l'audience du 12 mars 2026", 'Transmettre les conclusions au greffe', 'Communiquer les pièces']) {
    assert.equal(isSuspiciousRequest(text), false, text);
  }
});

test("the translate answer's first line names the language and is not translation", () => {
  assert.deepEqual(splitLanguage("Langue d'origine : anglais\n\nBonjour."), { language: 'anglais', body: 'Bonjour.' });
  assert.deepEqual(splitLanguage("Langue d'orig"), { language: null, body: "Langue d'orig" });
  assert.deepEqual(splitLanguage("Langue d’origine : Allemand."), { language: null, body: '' }); // still arriving
  assert.deepEqual(splitLanguage('Sans ligne de langue.'), { language: null, body: 'Sans ligne de langue.' });
});

test('the word diff (vendored jsdiff) counts the words removed and added', () => {
  const require = createRequire(import.meta.url);
  const Diff = require('../../../addin/vendor/diff.min.js');
  const parts = diffParts(Diff, 'Attendu que le pourvoi est rejeté.', 'Le pourvoi est rejeté.');
  assert.equal(parts.filter((p) => p.kind !== 'added').map((p) => p.text).join(''), 'Attendu que le pourvoi est rejeté.');
  assert.equal(parts.filter((p) => p.kind !== 'removed').map((p) => p.text).join(''), 'Le pourvoi est rejeté.');
  assert.deepEqual(countChanges(parts), { removed: 3, added: 1 });
  assert.equal(describeChanges({ removed: 3, added: 1 }), '3 mots retirés, 1 mot ajouté.');
  assert.equal(describeChanges({ removed: 0, added: 0 }), 'Aucun mot ne change.');
});
