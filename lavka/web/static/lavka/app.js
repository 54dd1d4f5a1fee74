/* Lavka: small progressive enhancements. Everything works without this file except the
   keyboard shortcuts, the narrow-screen menu toggle and copy-to-clipboard. */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function isTyping(el) {
    if (!el || el === document.body) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function isVisible(el) {
    return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  }

  // ---- global search dropdown ------------------------------------------------------------

  function searchInput() { return document.getElementById("global-search"); }
  function searchResults() { return document.getElementById("search-results"); }

  function searchHasContent() {
    var box = searchResults();
    return !!(box && box.querySelector("*"));
  }

  function openSearch() {
    var box = searchResults();
    if (box && searchHasContent()) box.hidden = false;
  }

  function closeSearch() {
    var box = searchResults();
    if (box && !box.hidden) {
      box.hidden = true;
      return true;
    }
    return false;
  }

  function searchItems() {
    var box = searchResults();
    return box && !box.hidden ? $all("[data-search-item]", box) : [];
  }

  // ---- screen-reader announcements after htmx swaps -----------------------------------------

  function announce(root) {
    var source = root && root.querySelector ? root.querySelector("[data-announce]") : null;
    var region = document.getElementById("sr-announcer");
    if (!source || !region) return;
    var text = source.textContent.replace(/\s+/g, " ").trim();
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    if (target.id === "search-results") {
      var input = searchInput();
      if (searchHasContent() && input && document.activeElement === input) openSearch();
      else if (!searchHasContent()) closeSearch();
    }
    announce(target);
  });

  // ---- menus -----------------------------------------------------------------------------------

  function closeMenus(except) {
    var closed = false;
    $all("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) {
        menu.open = false;
        closed = true;
      }
    });
    return closed;
  }

  function setNavOpen(open) {
    var sidebar = document.getElementById("sidebar");
    var toggle = $("[data-nav-toggle]");
    if (!sidebar || !toggle) return;
    sidebar.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    var toggle = target.closest("[data-nav-toggle]");
    if (toggle) {
      setNavOpen(toggle.getAttribute("aria-expanded") !== "true");
      return;
    }

    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      var message = dismiss.closest(".message");
      if (message) message.remove();
      return;
    }

    var back = target.closest("[data-back]");
    if (back) {
      window.history.back();
      return;
    }

    var copy = target.closest("[data-copy]");
    if (copy) {
      copyFrom(copy);
      return;
    }

    closeMenus(target.closest("details[data-menu]"));
    if (!target.closest("[data-search]")) closeSearch();
  });

  // ---- copy to clipboard -------------------------------------------------------------------------

  function copyFrom(button) {
    var source = $(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    var status = button.parentNode ? $("[data-copy-status]", button.parentNode) : null;
    var label = button.querySelector("span");
    var done = function () {
      var copied = button.getAttribute("data-copied-label") || "";
      if (label && copied) {
        var original = label.textContent;
        label.textContent = copied;
        window.setTimeout(function () { label.textContent = original; }, 2000);
      }
      if (status) status.textContent = copied;
    };
    var fallback = function () {
      if (source.select) {
        source.focus();
        source.select();
      }
      try {
        if (document.execCommand && document.execCommand("copy")) done();
      } catch (e) { /* the text stays selected for a manual copy */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-focus")) {
      window.setTimeout(function () { target.select(); }, 0);
    }
    if (target === searchInput()) openSearch();
  });

  // ---- confirm before destructive forms -------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // ---- keyboard ------------------------------------------------------------------------------------

  function moveRow(step) {
    var rows = $all("[data-row-link]").filter(isVisible);
    if (!rows.length) return;
    var index = rows.indexOf(document.activeElement);
    var next = index === -1 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, index + step));
    rows[next].focus();
    if (rows[next].scrollIntoView) rows[next].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;

    if (event.key === "Escape") {
      var handled = closeSearch();
      var openMenu = $("details[data-menu][open]");
      if (openMenu) {
        closeMenus();
        var summary = openMenu.querySelector("summary");
        if (summary) summary.focus();
        handled = true;
      }
      var sidebar = document.getElementById("sidebar");
      if (sidebar && sidebar.classList.contains("is-open")) {
        setNavOpen(false);
        var toggle = $("[data-nav-toggle]");
        if (toggle) toggle.focus();
        handled = true;
      }
      if (handled && target === searchInput()) event.preventDefault();
      return;
    }

    // Arrow keys move between search results.
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && target instanceof Element
        && (target === searchInput() || target.hasAttribute("data-search-item"))) {
      var items = searchItems();
      if (!items.length) return;
      event.preventDefault();
      var at = items.indexOf(target);
      if (event.key === "ArrowDown") {
        items[Math.min(items.length - 1, at + 1)].focus();
      } else if (at <= 0) {
        var input = searchInput();
        if (input) input.focus();
      } else {
        items[at - 1].focus();
      }
      return;
    }

    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(target)) return;

    if (event.key === "/") {
      var search = searchInput() || document.getElementById("page-search") || document.getElementById("client-q");
      if (search) {
        event.preventDefault();
        search.focus();
        if (search.select) search.select();
      }
    } else if (event.key === "n") {
      var shortcut = $('[data-shortcut="n"]');
      if (shortcut && shortcut.href) {
        event.preventDefault();
        window.location.assign(shortcut.href);
      }
    } else if (event.key === "j") {
      event.preventDefault();
      moveRow(1);
    } else if (event.key === "k") {
      event.preventDefault();
      moveRow(-1);
    }
  });

  // ---- on load ---------------------------------------------------------------------------------------

  function ready() {
    if (window.history.length > 1) {
      $all("[data-back]").forEach(function (el) { el.hidden = false; });
    }
    // After a failed submit, put the cursor in the first field that needs fixing.
    var invalid = $('form [aria-invalid="true"]');
    if (invalid && !isTyping(document.activeElement)) invalid.focus();
    var wide = window.matchMedia ? window.matchMedia("(min-width: 800px)") : null;
    if (wide && wide.addEventListener) {
      wide.addEventListener("change", function (e) { if (e.matches) setNavOpen(false); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
