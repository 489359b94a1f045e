// Passkey ceremonies for orgs' pages (served from the binary at /static/passkeys.js; the
// Content-Security-Policy allows no inline script). It finds its controls by data attributes:
//
//   <form data-passkey-register data-options-url="..." action="...">   adds a passkey named by
//       the form's `name` field: options from data-options-url, the answer posted to action;
//   <button data-passkey-sign-in data-options-url="..." data-finish-url="..." data-next="...">
//       signs in with a passkey (the login page) or completes the second step (without
//       data-next);
//
// each with data-passkey-message naming the element (role="alert") that shows what went wrong.
// Controls carry `hidden` until this script finds WebAuthn in the browser (data-passkey-supported
// shows them, data-passkey-fallback is what shows otherwise). Requests are JSON
// with the page's CSRF token (<meta name="csrf-token">) in X-CSRF-Token; the server answers
// {"redirect": "..."} where the page goes next, or the error envelope.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (const byte of bytes) {
      binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    const publicKey = structuredClone(options.publicKey);
    publicKey.challenge = toBytes(publicKey.challenge);
    publicKey.user.id = toBytes(publicKey.user.id);
    for (const credential of publicKey.excludeCredentials || []) {
      credential.id = toBytes(credential.id);
    }
    return { publicKey };
  }

  // The server's options may ask for conditional mediation (autofill); a button asks now.
  function requestOptions(options) {
    const publicKey = structuredClone(options.publicKey);
    publicKey.challenge = toBytes(publicKey.challenge);
    for (const credential of publicKey.allowCredentials || []) {
      credential.id = toBytes(credential.id);
    }
    return { publicKey };
  }

  function made(credential) {
    const extensions = credential.getClientExtensionResults();
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toText(credential.response.attestationObject),
        clientDataJSON: toText(credential.response.clientDataJSON),
      },
      extensions: extensions.credProps ? { credProps: extensions.credProps } : {},
    };
  }

  function asserted(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toText(response.authenticatorData),
        clientDataJSON: toText(response.clientDataJSON),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null,
      },
      extensions: {},
    };
  }

  class Stop extends Error {}

  function errorText(body, status) {
    const error = body && body.error;
    if (error && error.fields) {
      return Object.values(error.fields).flat().join(" ");
    }
    if (error && error.message) {
      return error.message;
    }
    return "The server answered " + status + ". Reload the page and try again.";
  }

  async function post(url, body) {
    const token = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": token ? token.content : "",
      },
      body: JSON.stringify(body),
    });
    // Sent elsewhere: to confirm it is you, or to sign in again.
    if (response.redirected) {
      window.location.assign(response.url);
      throw new Stop();
    }
    const answer = await response.json().catch(() => null);
    if (answer && answer.error && answer.error.code === "reauthentication_required") {
      const back = window.location.pathname + window.location.search;
      window.location.assign("/reauthenticate/?next=" + encodeURIComponent(back));
      throw new Stop();
    }
    if (!response.ok) {
      throw new Error(errorText(answer, response.status));
    }
    return answer;
  }

  function explain(error) {
    switch (error && error.name) {
      case "NotAllowedError":
        return "The passkey request was cancelled or timed out. Try again.";
      case "InvalidStateError":
        return "This device already holds a passkey for your account.";
      case "SecurityError":
        return "This address cannot use passkeys.";
      default:
        return (error && error.message) || "Something went wrong. Try again.";
    }
  }

  // Goes to `target`; to the same page again (another #fragment) by loading it anew.
  function go(target) {
    const url = new URL(target, window.location.href);
    const here = window.location;
    const same = url.pathname === here.pathname && url.search === here.search;
    window.location.assign(url.href);
    if (same) {
      window.location.reload();
    }
  }

  // Runs a ceremony from `control`: busy while it lasts, its message shown when it fails.
  async function run(control, ceremony) {
    const message = document.getElementById(control.dataset.passkeyMessage || "");
    const button = control.matches("button") ? control : control.querySelector("button");
    if (message) {
      message.hidden = true;
      message.textContent = "";
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const done = await ceremony();
      go(done.redirect);
    } catch (error) {
      if (error instanceof Stop) {
        return;
      }
      if (message) {
        message.textContent = explain(error);
        message.hidden = false;
      }
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function register(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(form, async () => {
        const name = form.elements.name.value;
        const started = await post(form.dataset.optionsUrl, { name });
        const credential = await navigator.credentials.create(creationOptions(started.options));
        return post(form.action, { challenge: started.challenge, credential: made(credential) });
      });
    });
  }

  function signIn(button) {
    button.addEventListener("click", () => {
      run(button, async () => {
        const started = await post(button.dataset.optionsUrl, {});
        const credential = await navigator.credentials.get(requestOptions(started.options));
        const answer = { credential: asserted(credential) };
        if (started.challenge) {
          answer.challenge = started.challenge;
        }
        if ("next" in button.dataset) {
          answer.next = button.dataset.next;
        }
        return post(button.dataset.finishUrl, answer);
      });
    });
  }

  for (const form of document.querySelectorAll("form[data-passkey-register]")) {
    register(form);
  }
  for (const button of document.querySelectorAll("[data-passkey-sign-in]")) {
    signIn(button);
  }
  for (const shown of document.querySelectorAll("[data-passkey-supported]")) {
    shown.hidden = false;
  }
  for (const fallback of document.querySelectorAll("[data-passkey-fallback]")) {
    fallback.hidden = true;
  }
})();
