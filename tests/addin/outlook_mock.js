/*
 * A fake Office.js for Outlook, served in place of Microsoft's office.js in browser tests.
 *
 * The scenario (the mail on screen) comes from `window.__outlookScenario`, set by the
 * test before the pane loads:
 *   { mode: "read" | "compose", subject, from: {displayName, emailAddress}, body,
 *     conversationId, dateTimeCreated (ISO), attachments: [{id, name, contentType, size,
 *     content (base64), error (optional Office error message), isInline}],
 *     requirements: {"Mailbox": "1.8"}, selection: {start, end} (compose cursor),
 *     insertError (Outlook refuses the insertion), ssoToken / ssoError (Office SSO),
 *     masterCategories: ["…"] (the user's Outlook categories; others are refused),
 *     permission: "ReadWriteItem" (default) | "ReadWriteMailbox" (the manifest's: only the
 *     latter lets the add-in read or add to the user's list of categories, Mailbox 1.8) }
 * Every call the pane makes that matters is recorded in `window.__outlookCalls`
 * ({name, args}), and the compose body lives in `window.__composeBody`, so a test can
 * check what was inserted, where, and that nothing was sent.
 */
(function () {
  "use strict";
  const scenario = window.__outlookScenario || {};
  const calls = (window.__outlookCalls = []);
  const record = (name, args) => calls.push({ name, args: JSON.parse(JSON.stringify(args ?? null)) });

  const Succeeded = "succeeded";
  const Failed = "failed";
  const ok = (value) => ({ status: Succeeded, value, error: null, asyncContext: undefined });
  const fail = (message, code) => ({
    status: Failed, value: undefined, error: { name: "Error", message, code: code || 9999 },
  });
  // Office calls back asynchronously; so does the mock, to catch code that assumes otherwise.
  const later = (callback, result) => { if (callback) setTimeout(() => callback(result), 0); };
  const lastCallback = (args) => [...args].reverse().find((a) => typeof a === "function");

  function versionAtLeast(have, want) {
    const a = String(have).split(".").map(Number);
    const b = String(want || "1.1").split(".").map(Number);
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) > (b[i] || 0);
    }
    return true;
  }
  const requirements = scenario.requirements || { Mailbox: "1.8" };

  function htmlToText(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    return doc.body.textContent || "";
  }
  const bodyText = () => (scenario.bodyType === "html" ? htmlToText(scenario.body || "") : (scenario.body || ""));

  function makeAttachments() {
    return (scenario.attachments || []).map((a) => ({
      id: a.id, name: a.name, contentType: a.contentType || "application/octet-stream",
      size: a.size ?? Math.floor(((a.content || "").length * 3) / 4),
      attachmentType: a.attachmentType || "file", isInline: Boolean(a.isInline),
    }));
  }

  function readItem() {
    return {
      itemType: "message",
      itemId: scenario.itemId || "AAMkAGI-mock-item",
      subject: scenario.subject || "",
      normalizedSubject: (scenario.subject || "").replace(/^(RE|TR|FW|Fwd)\s*:\s*/i, ""),
      from: scenario.from || { displayName: "Expéditeur", emailAddress: "expediteur@example.fr" },
      sender: scenario.from || { displayName: "Expéditeur", emailAddress: "expediteur@example.fr" },
      to: scenario.to || [{ displayName: "Greffe", emailAddress: "greffe@justice.fr" }],
      dateTimeCreated: new Date(scenario.dateTimeCreated || "2026-01-05T09:30:00Z"),
      conversationId: scenario.conversationId || "conv-1",
      attachments: makeAttachments(),
      body: {
        getAsync(coercionType, ...rest) {
          record("body.getAsync", { coercionType });
          const text = coercionType === "html" ? (scenario.body || "") : bodyText();
          later(lastCallback(rest), ok(text));
        },
      },
      getAttachmentContentAsync(id, ...rest) {
        record("getAttachmentContentAsync", { id });
        const attachment = (scenario.attachments || []).find((a) => a.id === id);
        const callback = lastCallback(rest);
        if (!attachment) return later(callback, fail("Attachment not found", 9043));
        if (attachment.error) return later(callback, fail(attachment.error, 9040));
        later(callback, ok({ format: "base64", content: attachment.content || "" }));
      },
      displayReplyForm(form) { record("displayReplyForm", { form }); },
      displayReplyAllForm(form) { record("displayReplyAllForm", { form }); },
      // Outlook applies only a category of the user's list (scenario.masterCategories).
      categories: versionAtLeast(requirements.Mailbox || "1.1", "1.8") ? {
        addAsync(names, ...rest) {
          record("categories.addAsync", { names });
          const known = scenario.masterCategories || [];
          const callback = lastCallback(rest);
          if (!names.every((n) => known.includes(n))) return later(callback, fail("Invalid category", 9049));
          window.__itemCategories = [...new Set([...(window.__itemCategories || []), ...names])];
          later(callback, ok());
        },
      } : undefined,
    };
  }

  function composeItem() {
    window.__composeBody = scenario.body || "";
    const selection = scenario.selection || { start: window.__composeBody.length, end: window.__composeBody.length };
    return {
      itemType: "message",
      conversationId: scenario.conversationId || "conv-1",
      subject: {
        getAsync(...args) { record("subject.getAsync", {}); later(lastCallback(args), ok(scenario.subject || "")); },
        setAsync(value, ...args) { record("subject.setAsync", { value }); later(lastCallback(args), ok()); },
      },
      to: { getAsync(...args) { later(lastCallback(args), ok(scenario.to || [])); } },
      body: {
        getAsync(coercionType, ...rest) {
          record("body.getAsync", { coercionType });
          later(lastCallback(rest), ok(window.__composeBody));
        },
        getTypeAsync(...args) { later(lastCallback(args), ok(scenario.bodyType || "text")); },
        setSelectedDataAsync(data, ...rest) {
          const options = rest.find((a) => a && typeof a === "object") || {};
          record("body.setSelectedDataAsync", { data, coercionType: options.coercionType });
          const callback = lastCallback(rest);
          if (scenario.insertError) return later(callback, fail(scenario.insertError, 5001));
          const text = window.__composeBody;
          window.__composeBody = text.slice(0, selection.start) + data + text.slice(selection.end);
          selection.start = selection.end = selection.start + data.length;
          later(callback, ok());
        },
        setAsync(data, ...rest) {
          record("body.setAsync", { data });
          window.__composeBody = data;
          later(lastCallback(rest), ok());
        },
      },
      saveAsync(...args) { record("saveAsync", {}); later(lastCallback(args), ok("draft-id")); },
      // A pane must never send on its own: recorded so a test can prove it was not called.
      sendAsync(...args) { record("sendAsync", {}); later(lastCallback(args), ok()); },
    };
  }

  const item = scenario.mode === "compose" ? composeItem() : readItem();

  // The user's list of categories (Mailbox 1.8). Outlook refuses to read or change it unless
  // the manifest asked for ReadWriteMailbox: an error named PermissionDenied, as Office says.
  const mayManage = (scenario.permission || "ReadWriteItem") === "ReadWriteMailbox";
  const denied = () => ({ status: Failed, value: undefined,
    error: { name: "PermissionDenied", message: "The user doesn't have the permission to perform this operation.", code: 9017 } });
  const masterCategories = versionAtLeast(requirements.Mailbox || "1.1", "1.8") ? {
    getAsync(...args) {
      record("masterCategories.getAsync", {});
      const callback = lastCallback(args);
      if (!mayManage) return later(callback, denied());
      later(callback, ok((scenario.masterCategories || []).map((name) => ({ displayName: name, color: "Preset0" }))));
    },
    addAsync(categories, ...rest) {
      record("masterCategories.addAsync", { categories });
      const callback = lastCallback(rest);
      if (!mayManage) return later(callback, denied());
      scenario.masterCategories = scenario.masterCategories || [];
      if (categories.some((c) => scenario.masterCategories.includes(c.displayName))) {
        return later(callback, { status: Failed, value: undefined,
          error: { name: "DuplicateCategory", message: "One of the categories provided is already in the master category list.", code: 9045 } });
      }
      scenario.masterCategories.push(...categories.map((c) => c.displayName));
      later(callback, ok());
    },
  } : undefined;

  window.Office = {
    HostType: { Outlook: "Outlook", Word: "Word" },
    PlatformType: { PC: "PC", OfficeOnline: "OfficeOnline", Mac: "Mac" },
    CoercionType: { Text: "text", Html: "html" },
    AsyncResultStatus: { Succeeded, Failed },
    MailboxEnums: {
      AttachmentContentFormat: { Base64: "base64", Url: "url", Eml: "eml", ICalendar: "iCalendar" },
      AttachmentType: { File: "file", Item: "item", Cloud: "cloud" },
      ItemType: { Message: "message", Appointment: "appointment" },
      CategoryColor: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Preset${i}`, `Preset${i}`])),
    },
    onReady(callback) {
      const info = { host: "Outlook", platform: "PC" };
      return new Promise((resolve) => setTimeout(() => { if (callback) callback(info); resolve(info); }, 0));
    },
    context: {
      displayLanguage: "fr-FR",
      officeTheme: scenario.theme || {
        bodyBackgroundColor: "#ffffff", bodyForegroundColor: "#242424",
        controlBackgroundColor: "#ffffff", controlForegroundColor: "#242424",
      },
      requirements: {
        isSetSupported(name, version) {
          return name in requirements && versionAtLeast(requirements[name], version);
        },
      },
      mailbox: {
        item,
        masterCategories,
        userProfile: { displayName: "Greffière Test", emailAddress: "greffe@justice.fr" },
        diagnostics: { hostName: "Outlook", hostVersion: "16.0" },
        displayNewMessageForm(params) { record("displayNewMessageForm", params); },
        displayNewAppointmentForm(params) {
          record("displayNewAppointmentForm", {
            ...params,
            start: params.start instanceof Date ? params.start.toISOString() : params.start,
            end: params.end instanceof Date ? params.end.toISOString() : params.end,
          });
        },
      },
      ui: {
        displayDialogAsync(url, ...rest) {
          record("displayDialogAsync", { url });
          later(lastCallback(rest), fail("Dialogs are not available in tests", 12007));
        },
      },
    },
    auth: {
      // Office SSO: the scenario's token (a fake identity provider's), or its error code.
      getAccessToken(options) {
        record("auth.getAccessToken", { options });
        if (scenario.ssoToken) return Promise.resolve(scenario.ssoToken);
        return Promise.reject({ code: scenario.ssoError || 13000, message: "SSO refused by the scenario" });
      },
    },
  };
})();
