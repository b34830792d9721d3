// The inbox's live updates, the only script (reading and replying work without
// it). Every 5 s it asks /admin/updates how things stand: the tab title carries
// the number of conversations with unread messages; on the inbox a new message
// refreshes the list; on a conversation a new message in that conversation (and
// only there) makes a line offer to show it (a reply being typed is never
// lost). A sound plays once the owner has turned it on with a click.
"use strict";
(() => {
  const body = document.body;
  let latest = Number(body.dataset.latest || 0);
  const conversation = body.dataset.conversation;
  const updates = "/admin/updates" + (conversation ? "?conversation=" + encodeURIComponent(conversation) : "");
  const title = document.title.replace(/^\(\d+\) /, "");
  const news = document.getElementById("news");
  const bell = document.getElementById("bell");
  let audio = null;

  const setBell = (on) => {
    bell.setAttribute("aria-pressed", on ? "true" : "false");
    bell.textContent = on ? "🔔 Sound on" : "🔔 Sound for new messages";
    try { localStorage.setItem("shopbot-sound", on ? "on" : "off"); } catch (_) { /* private mode */ }
  };
  bell.addEventListener("click", () => {
    const on = bell.getAttribute("aria-pressed") !== "true";
    if (on && !audio) audio = new AudioContext(); // needs the click
    setBell(on);
    if (on) beep();
  });

  function beep() {
    if (!audio || bell.getAttribute("aria-pressed") !== "true") return;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  }

  const typing = () => {
    const box = document.getElementById("body");
    return box && box.value.trim() !== "";
  };

  async function poll() {
    let update;
    try {
      const res = await fetch(updates, { headers: { Accept: "application/json" }, redirect: "manual" });
      if (!res.ok) return; // signed out or a hiccup: the next poll tries again
      update = await res.json();
    } catch (_) {
      return;
    }
    const unread = Number(update.unread_conversations) || 0;
    document.title = (unread > 0 ? "(" + unread + ") " : "") + title;
    if (Number(update.latest) > latest) {
      latest = Number(update.latest);
      beep();
      if (body.dataset.page === "inbox" && !typing()) location.reload();
      else news.hidden = false;
    }
  }

  // "Show them" on the page it names (only the #reply anchor differs): reload.
  news.querySelector("a").addEventListener("click", (event) => {
    const target = new URL(event.currentTarget.href);
    if (target.pathname !== location.pathname) return;
    event.preventDefault();
    location.hash = target.hash;
    location.reload();
  });

  setInterval(poll, 5000);
  poll();
})();
