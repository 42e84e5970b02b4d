// Unit tests of the panes' French typography (addin/common/typography.js), run by node's
// test runner: `node --test tests/addin/js/` (tests/addin/test_typography.py runs it too).
import assert from 'node:assert/strict';
import test from 'node:test';

import { NBHYPHEN, NBSP, NNBSP, frenchTypography as fix } from '../../../addin/common/typography.js';

test('no-break spaces before the high punctuation, added when the model left none', () => {
  assert.equal(fix('Motifs : rejet ; dépens ? Oui !'), `Motifs${NBSP}: rejet${NNBSP}; dépens${NNBSP}? Oui${NNBSP}!`);
  assert.equal(fix('Attention: délai'), `Attention${NBSP}: délai`);
});

test('URLs, hours and decimals are left alone', () => {
  assert.equal(fix('https://www.courdecassation.fr/?q=1 à 10:30, soit 1.5'), 'https://www.courdecassation.fr/?q=1 à 10:30, soit 1.5');
});

test('guillemets hold their text with no-break spaces', () => {
  assert.equal(fix('dit « faute grave »'), `dit «${NBSP}faute grave${NBSP}»`);
  assert.equal(fix('dit «faute»'), `dit «${NBSP}faute${NBSP}»`);
});

test('abbreviations and pourvoi numbers are never split', () => {
  assert.equal(fix('pourvoi n° 23-11.537 de M. Martin et Mme Durand'),
    `pourvoi n°${NBSP}23${NBHYPHEN}11.537 de M.${NBSP}Martin et Mme${NBSP}Durand`);
  assert.equal(fix('§ 4'), `§${NBSP}4`);
});

test('typographic apostrophes between letters only', () => {
  assert.equal(fix("l'arrêt d'appel"), 'l’arrêt d’appel');
  assert.equal(fix("'cité'"), "'cité'");
});

test('no stray space before a chip, nor before a full stop, nor inside brackets', () => {
  assert.equal(fix("l'entreprise [1] ."), `l’entreprise${NBSP}[1].`);
  assert.equal(fix('( § 1 )'), `(§${NBSP}1)`);
  assert.equal(fix('rejet , puis'), 'rejet, puis');
});

test('a file extension keeps the space before its dot, and typesetting twice changes nothing', () => {
  assert.equal(fix('Les messages (.eml, .msg) et .pdf'), 'Les messages (.eml, .msg) et .pdf');
  const once = fix("« Attendu que » : l'arrêt n° 23-11.537 [1] . Pourquoi ?");
  assert.equal(fix(once), once);
});

test('line breaks stay', () => {
  assert.equal(fix('a :\nb'), `a${NBSP}:\nb`);
});
