(function () {
  "use strict";
  var notes = Array.prototype.slice.call(document.querySelectorAll(".preview-note"));
  var texts = notes.map(function (note) { return note.textContent.toLowerCase(); });
  var topics = Array.prototype.slice.call(document.querySelectorAll(".preview-topic"));
  var cards = document.querySelectorAll(".preview-side > .card");
  var filter = document.getElementById("preview-filter");
  var night = document.getElementById("preview-night");
  var phone = document.getElementById("preview-phone");
  var count = document.getElementById("preview-count");

  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    notes.forEach(function (note, index) {
      var match = words.every(function (word) { return texts[index].indexOf(word) >= 0; });
      note.hidden = !match;
      if (match) { shown += 1; }
    });
    topics.forEach(function (topic) {
      var empty = topic.querySelector(".preview-note:not([hidden])") === null;
      topic.hidden = empty;
      document.querySelector('a[href="#' + topic.id + '"]').hidden = empty;
    });
    count.textContent = (shown === notes.length ? "" : shown + " of ") +
      notes.length + (notes.length === 1 ? " card" : " cards");
  }

  // The classes Anki's clients put on the card in night mode: desktop and AnkiMobile
  // `nightMode`, AnkiDroid `night_mode`; desktop both.
  function applyNight() {
    Array.prototype.forEach.call(cards, function (card) {
      card.classList.toggle("nightMode", night.checked);
      card.classList.toggle("night_mode", night.checked);
    });
    document.body.classList.toggle("preview-night", night.checked);
  }

  function applyPhone() {
    document.body.classList.toggle("preview-phone", phone.checked);
  }

  // Served by `preview --watch`: reload when another build is current, keeping the filter,
  // the switches and the scroll position across the reload.
  // (The same page opened later from its file has no server to ask.)
  var live = location.protocol.indexOf("http") === 0 &&
    document.body.getAttribute("data-live-version");
  var saved = "qa2anki-preview";

  function restore() {
    var state = JSON.parse(sessionStorage.getItem(saved) || "null");
    sessionStorage.removeItem(saved);
    if (state) {
      filter.value = state.filter;
      night.checked = state.night;
      phone.checked = state.phone;
    }
    return state;
  }

  function poll() {
    fetch("/version", { cache: "no-store" }).then(function (response) {
      return response.text();
    }).then(function (version) {
      if (version === live) {
        setTimeout(poll, 500);
        return;
      }
      sessionStorage.setItem(saved, JSON.stringify({
        filter: filter.value, night: night.checked, phone: phone.checked,
        scroll: window.scrollY
      }));
      location.reload();
    }, function () {
      setTimeout(poll, 2000);  // the server stopped (Ctrl-C): try again later
    });
  }

  filter.addEventListener("input", applyFilter);
  night.addEventListener("change", applyNight);
  phone.addEventListener("change", applyPhone);
  var state = live ? restore() : null;
  applyFilter();
  applyNight();
  applyPhone();
  if (state) {
    window.scrollTo(0, state.scroll);
  }
  if (live) {
    setTimeout(poll, 500);
  }
})();
