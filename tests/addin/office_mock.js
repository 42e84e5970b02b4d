/*
 * Office.js stand-in for browser tests of the task panes (served instead of
 * https://appsforoffice.microsoft.com/lib/1/hosted/office.js through playwright's page.route).
 *
 * It keeps a small Word document model and records every Word API call the pane makes in
 * `window.__officeCalls` ({api, args, trackingMode, ...}), so tests assert what reached the
 * document and in which tracking mode. Like the real Office.js, properties must be loaded
 * and synced before they are read (PropertyNotLoaded otherwise), and an API of a requirement
 * set the host lacks fails at sync() with ApiNotFound.
 *
 * Configure before the page loads with `window.__officeMockConfig = {...}`:
 *   host: 'Word' | 'Outlook'            (default 'Word')
 *   sets: {WordApi: '1.5', ...}         highest supported version per requirement set
 *   theme: {bodyBackgroundColor, ...}   Office.context.officeTheme (omitted: no theme)
 *   paragraphs: ['…', '…']              body paragraphs
 *   selection: [first, last]            selected paragraph indices (omitted: empty cursor
 *                                       at the end of the first paragraph)
 *   trackingMode: 'Off'                 initial Document.changeTrackingMode
 *   url: 'https://…/jugement.docx'      Office.context.document.url (omitted: unsaved document)
 *   mailbox: {...}                      left to the Outlook tests (Office.context.mailbox)
 *   ssoTokens: ['eyJ…', …]              Office.auth.getAccessToken answers these in turn (the
 *                                       last one repeats); omitted: no Office SSO on this host
 *
 * Content controls are kept in `__officeState.contentControls` ({id, tag, title, text,
 * deleted, …}): a test plays a user editing or deleting one by changing `text` or `deleted`.
 */
(function () {
  'use strict';

  const config = window.__officeMockConfig || {};
  const sets = Object.assign({ WordApi: '1.5', WordApiHiddenDocument: '1.5' }, config.sets || {});
  const calls = [];
  window.__officeCalls = calls;

  const state = {
    paragraphs: (config.paragraphs || ['Premier paragraphe du jugement.']).slice(),
    selection: config.selection || null,
    trackingMode: config.trackingMode || 'Off',
    footnotes: [],
    comments: [],
    formats: [],
    contentControls: [],
    selected: null,
  };
  window.__officeState = state;

  function versionAtLeast(have, want) {
    const a = String(have).split('.').map(Number);
    const b = String(want || '1.1').split('.').map(Number);
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      const x = a[i] || 0;
      const y = b[i] || 0;
      if (x !== y) return x > y;
    }
    return true;
  }

  function supported(name, version) {
    return Object.prototype.hasOwnProperty.call(sets, name) && sets[name] !== null
      && versionAtLeast(sets[name], version);
  }

  class OfficeError extends Error {
    constructor(code, message) {
      super(message);
      this.name = 'OfficeExtension.Error';
      this.code = code;
      this.debugInfo = { code, message };
    }
  }

  function record(api, args, extra) {
    const entry = Object.assign({ api, args: args || [], trackingMode: state.trackingMode }, extra || {});
    calls.push(entry);
    return entry;
  }

  /* Base of proxy objects: load()/sync() discipline and requirement-set checks. */
  class ClientObject {
    constructor(context, type) {
      this.context = context;
      this._type = type;
      this._pending = new Set();
      this._loaded = new Set();
      context._objects.push(this);
    }

    load(props) {
      const names = typeof props === 'string' ? props.split(',') : Array.isArray(props) ? props : ['*'];
      for (const name of names) this._pending.add(name.trim().split('/')[0]);
      return this;
    }

    _afterSync() {
      for (const name of this._pending) this._loaded.add(name);
      this._pending.clear();
    }

    _read(name, value) {
      if (!this._loaded.has(name) && !this._loaded.has('*')) {
        throw new OfficeError('PropertyNotLoaded', `${this._type}.${name} read before load() and sync()`);
      }
      return value;
    }

    _needs(set, version, api) {
      if (!supported(set, version)) this.context._fail(new OfficeError('ApiNotFound', `${api} needs ${set} ${version}`));
    }
  }

  class Comment extends ClientObject {
    constructor(context, content) {
      super(context, 'Comment');
      this.content = content;
    }
  }

  const controlRanges = new Map(); // control id → the range it was put around
  class ContentControl extends ClientObject {
    /* A new control around `range`, or (with `props`) a proxy for one already in the document. */
    constructor(context, range, props) {
      super(context, 'ContentControl');
      this._range = range;
      if (props) {
        this._props = props;
        const around = controlRanges.get(props.id); // a new proxy of it, in this context
        this._range = range || (around ? new Range(context, around._first, around._last, around._text) : null);
        return;
      }
      this._props = { tag: '', title: '', appearance: 'BoundingBox', color: '', cannotEdit: false, cannotDelete: false };
      this._props.id = state.contentControls.length + 1;
      this._props.text = range._text;
      this._props.deleted = false;
      state.contentControls.push(this._props);
      controlRanges.set(this._props.id, range);
    }

    /* Tests change `__officeState.contentControls[i].text` to play a user editing it. */
    get id() { return this._read('id', this._props.id); }

    get text() { return this._read('text', this._props.text); }

    get isNullObject() { return false; }

    getRange(location) {
      record('ContentControl.getRange', [location || 'Whole']);
      return this._range;
    }

    insertText(text, location) { return this._range.insertText(text, location); }
  }
  for (const prop of ['tag', 'title', 'appearance', 'color', 'cannotEdit', 'cannotDelete', 'placeholderText']) {
    Object.defineProperty(ContentControl.prototype, prop, {
      get() { return this._props[prop]; },
      set(value) {
        record(`ContentControl.${prop}`, [value]);
        this._props[prop] = value;
      },
    });
  }

  /* What getByIdOrNullObject answers for a control no longer in the document. */
  class NullContentControl extends ClientObject {
    constructor(context) { super(context, 'ContentControl'); }

    get isNullObject() { return true; }

    get text() { throw new OfficeError('InvalidObjectPath', 'ContentControl.text of a null object'); }
  }

  class ContentControlCollection extends ClientObject {
    constructor(context) { super(context, 'ContentControlCollection'); }

    getByIdOrNullObject(id) {
      record('ContentControlCollection.getByIdOrNullObject', [id]);
      this._needs('WordApi', '1.3', 'ContentControlCollection.getByIdOrNullObject');
      const props = state.contentControls.find((control) => control.id === id && !control.deleted);
      return props ? new ContentControl(this.context, null, props) : new NullContentControl(this.context);
    }
  }

  class Range extends ClientObject {
    constructor(context, first, last, text) {
      super(context, 'Range');
      this._first = first;
      this._last = last;
      this._text = text;
    }

    get text() { return this._read('text', this._text); }

    get isEmpty() { return this._read('isEmpty', this._text === ''); }

    get paragraphs() {
      const items = [];
      for (let i = this._first; i <= this._last; i += 1) items.push(new Paragraph(this.context, i));
      return new ParagraphCollection(this.context, items);
    }

    insertText(text, location) {
      record('Range.insertText', [text, location]);
      const index = this._last;
      if (location === 'Replace') state.paragraphs.splice(this._first, this._last - this._first + 1, ...text.split('\n'));
      else if (location === 'Before' || location === 'Start') state.paragraphs[this._first] = text + state.paragraphs[this._first];
      else state.paragraphs[index] = (state.paragraphs[index] || '') + text;
      return new Range(this.context, this._first, this._last, text);
    }

    insertParagraph(text, location) {
      record('Range.insertParagraph', [text, location]);
      const at = location === 'Before' ? this._first : this._last + 1;
      state.paragraphs.splice(at, 0, text);
      return new Paragraph(this.context, at);
    }

    insertContentControl() {
      record('Range.insertContentControl', []);
      return new ContentControl(this.context, this);
    }

    insertComment(text) {
      record('Range.insertComment', [text]);
      this._needs('WordApi', '1.4', 'Range.insertComment');
      state.comments.push({ text, anchor: this._text });
      return new Comment(this.context, text);
    }

    insertFootnote(text) {
      record('Range.insertFootnote', [text]);
      this._needs('WordApi', '1.5', 'Range.insertFootnote');
      state.footnotes.push(text);
      return new ClientObject(this.context, 'NoteItem');
    }

    select(mode) {
      record('Range.select', [mode || 'Select']);
      state.selected = { first: this._first, last: this._last };
    }

    getRange(location) {
      record('Range.getRange', [location || 'Whole']);
      return this;
    }

    /* Occurrences of `text` in the range's paragraphs (as they are now), each a SubRange. */
    search(text, options) {
      record('Range.search', [text, options || {}]);
      const items = [];
      for (let i = this._first; i <= this._last; i += 1) {
        const paragraph = state.paragraphs[i] || '';
        for (let at = paragraph.indexOf(text); at >= 0; at = paragraph.indexOf(text, at + text.length)) {
          items.push(new SubRange(this.context, i, at, at + text.length));
        }
      }
      return new RangeCollection(this.context, items);
    }
  }

  /* A piece of one paragraph found by search(); ranges found in the same paragraph follow
     each other's edits, as Word's do. */
  const liveSubRanges = [];
  class SubRange extends ClientObject {
    constructor(context, index, start, end) {
      super(context, 'Range');
      Object.assign(this, { _index: index, _start: start, _end: end });
      liveSubRanges.push(this);
    }

    get text() { return this._read('text', (state.paragraphs[this._index] || '').slice(this._start, this._end)); }

    /* Character formatting: each property set is recorded with the text it applies to and
       kept in `__officeState.formats` ({paragraph, start, end, text, bold, …}). */
    get font() {
      const range = this;
      return new Proxy({}, {
        set(_, prop, value) {
          const text = (state.paragraphs[range._index] || '').slice(range._start, range._end);
          record(`Range.font.${String(prop)}`, [value], { text });
          state.formats.push({ paragraph: range._index, start: range._start, end: range._end, text, [prop]: value });
          return true;
        },
      });
    }

    insertFootnote(text) {
      record('Range.insertFootnote', [text], { after: (state.paragraphs[this._index] || '').slice(0, this._end) });
      this._needs('WordApi', '1.5', 'Range.insertFootnote');
      state.footnotes.push(text);
      return new ClientObject(this.context, 'NoteItem');
    }

    insertText(text, location) {
      record('Range.insertText', [text, location]);
      if (location !== 'Replace') throw new OfficeError('NotImplemented', 'the mock replaces found ranges only');
      const paragraph = state.paragraphs[this._index] || '';
      state.paragraphs[this._index] = paragraph.slice(0, this._start) + text + paragraph.slice(this._end);
      const delta = text.length - (this._end - this._start);
      for (const other of liveSubRanges) {
        if (other !== this && other._index === this._index && other._start >= this._end) {
          other._start += delta;
          other._end += delta;
        }
      }
      this._end = this._start + text.length;
      for (const control of state.contentControls) {
        if (!control.deleted && control.text && control.text.includes(paragraph)) control.text = control.text.replace(paragraph, state.paragraphs[this._index]);
      }
      return this;
    }
  }

  class RangeCollection extends ClientObject {
    constructor(context, items) {
      super(context, 'RangeCollection');
      this._items = items;
    }

    get items() { return this._read('items', this._items); }
  }

  class Paragraph extends Range {
    constructor(context, index) {
      super(context, index, index, state.paragraphs[index] || '');
      this._type = 'Paragraph';
      this._index = index;
    }

    select(mode) {
      record('Paragraph.select', [mode || 'Select'], { index: this._index, text: state.paragraphs[this._index] });
      state.selected = { first: this._index, last: this._index };
    }
  }

  class ParagraphCollection extends ClientObject {
    constructor(context, items) {
      super(context, 'ParagraphCollection');
      this._items = items;
    }

    get items() { return this._read('items', this._items); }

    load(props) {
      super.load('items');
      for (const item of this._items) item.load(typeof props === 'string' ? props.replace(/items\//g, '') : props || 'text');
      return this;
    }
  }

  class Body extends ClientObject {
    constructor(context) { super(context, 'Body'); }

    get text() { return this._read('text', state.paragraphs.join('\n')); }

    get paragraphs() {
      return new ParagraphCollection(this.context, state.paragraphs.map((_, i) => new Paragraph(this.context, i)));
    }

    getRange(location) {
      record('Body.getRange', [location || 'Whole']);
      const last = state.paragraphs.length - 1;
      if (location === 'End') return new Range(this.context, last, last, '');
      if (location === 'Start') return new Range(this.context, 0, 0, '');
      return new Range(this.context, 0, last, state.paragraphs.join('\n'));
    }

    insertParagraph(text, location) {
      record('Body.insertParagraph', [text, location]);
      if (location === 'Start') {
        state.paragraphs.unshift(text);
        return new Paragraph(this.context, 0);
      }
      state.paragraphs.push(text);
      return new Paragraph(this.context, state.paragraphs.length - 1);
    }
  }

  class WordDocument extends ClientObject {
    constructor(context) {
      super(context, 'Document');
      this.body = new Body(context);
    }

    get contentControls() { return new ContentControlCollection(this.context); }

    get changeTrackingMode() {
      if (!supported('WordApi', '1.4')) throw new OfficeError('ApiNotFound', 'changeTrackingMode needs WordApi 1.4');
      return this._read('changeTrackingMode', state.trackingMode);
    }

    set changeTrackingMode(mode) {
      record('Document.changeTrackingMode', [mode]);
      this._needs('WordApi', '1.4', 'Document.changeTrackingMode');
      state.trackingMode = mode;
    }

    getSelection() {
      record('Document.getSelection', []);
      if (state.selection) {
        const [first, last] = state.selection;
        return new Range(this.context, first, last, state.paragraphs.slice(first, last + 1).join('\n'));
      }
      return new Range(this.context, 0, 0, '');
    }
  }

  class RequestContext {
    constructor() {
      this._objects = [];
      this._error = null;
      this.document = new WordDocument(this);
    }

    _fail(error) {
      if (!this._error) this._error = error;
    }

    async sync() {
      record('context.sync', []);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this._error) {
        const error = this._error;
        this._error = null;
        throw error;
      }
      for (const object of this._objects) object._afterSync();
    }
  }

  const Word = {
    run(callback) {
      const context = new RequestContext();
      return Promise.resolve().then(() => callback(context));
    },
    InsertLocation: { replace: 'Replace', start: 'Start', end: 'End', before: 'Before', after: 'After' },
    ChangeTrackingMode: { off: 'Off', trackAll: 'TrackAll', trackMineOnly: 'TrackMineOnly' },
    ContentControlAppearance: { boundingBox: 'BoundingBox', tags: 'Tags', hidden: 'Hidden' },
    SelectionMode: { select: 'Select', start: 'Start', end: 'End' },
    RequestContext,
  };

  const host = config.host || 'Word';
  const themeHandlers = [];
  const Office = {
    HostType: { Word: 'Word', Outlook: 'Outlook', Excel: 'Excel' },
    PlatformType: { PC: 'PC', OfficeOnline: 'OfficeOnline', Mac: 'Mac' },
    EventType: { OfficeThemeChanged: 'officeThemeChanged' },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    context: {
      host,
      platform: 'OfficeOnline',
      displayLanguage: 'fr-FR',
      officeTheme: config.theme || undefined,
      requirements: {
        isSetSupported(name, version) {
          return supported(name, version);
        },
      },
      document: {
        url: config.url || '',
        addHandlerAsync(type, handler, callback) {
          if (type === 'officeThemeChanged') themeHandlers.push(handler);
          if (callback) callback({ status: 'succeeded' });
        },
      },
      mailbox: config.mailbox,
    },
    onReady(callback) {
      const info = { host, platform: 'OfficeOnline' };
      return new Promise((resolve) => {
        setTimeout(() => {
          if (callback) callback(info);
          resolve(info);
        }, 0);
      });
    },
    initialize: null,
  };
  if (Array.isArray(config.ssoTokens) && config.ssoTokens.length) {
    const tokens = config.ssoTokens.slice();
    Office.auth = {
      getAccessToken(options) {
        record('Office.auth.getAccessToken', [options || {}]);
        return Promise.resolve(tokens.length > 1 ? tokens.shift() : tokens[0]);
      },
    };
  }
  window.__officeMockChangeTheme = (theme) => {
    Office.context.officeTheme = theme;
    for (const handler of themeHandlers) handler({ officeTheme: theme });
  };

  window.Office = Office;
  window.OfficeExtension = { Error: OfficeError };
  if (host === 'Word') window.Word = Word;
}());
