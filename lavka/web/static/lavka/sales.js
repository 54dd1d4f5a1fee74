/* Lavka sales board: drag and drop of deal cards between and within columns, the same
   moves by keyboard (Shift+arrows on a focused card, M for the move dialog), and the
   lost-reason dialog. One POST per move; the server's answer updates the counters. */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  $all("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  var board = $("[data-board]");
  if (!board) return;
  var dialog = $("#move-dialog");
  var form = dialog ? $("[data-move-form]", dialog) : null;
  var status = $("[data-board-status]");
  var dragged = null;
  var placeholder = document.createElement("li");
  placeholder.className = "board-placeholder";
  placeholder.setAttribute("aria-hidden", "true");
  var pending = null; // the move waiting in the dialog: {card, stage, after}

  function csrf() {
    var input = form ? $("input[name=csrfmiddlewaretoken]", form) : null;
    return input ? input.value : "";
  }

  function say(text, link, isError) {
    if (!status) return;
    status.textContent = "";
    status.classList.toggle("is-error", !!isError);
    window.setTimeout(function () {
      status.appendChild(document.createTextNode(text));
      if (link && link.url) {
        var a = document.createElement("a");
        a.href = link.url;
        a.textContent = link.label;
        a.setAttribute("data-testid", "order-link");
        status.appendChild(document.createTextNode(" "));
        status.appendChild(a);
      }
    }, 30);
  }

  function columnOf(el) { return el.closest("[data-column]"); }
  function cardsOf(column) { return $("[data-cards]", column); }
  function cardList(column) { return $all("[data-card]", cardsOf(column)); }
  function columns() { return $all("[data-column]", board); }

  function updateColumns(data) {
    Object.keys(data || {}).forEach(function (stageId) {
      var column = $('[data-column][data-stage="' + stageId + '"]', board);
      if (!column) return;
      var info = data[stageId];
      $("[data-count]", column).textContent = info.count_label;
      $("[data-totals]", column).textContent = info.totals_label;
      var empty = $("[data-empty]", column);
      if (empty) empty.hidden = info.count > 0;
    });
  }

  function place(card, column, afterId) {
    var list = cardsOf(column);
    var anchor = afterId ? $('[data-card][data-deal="' + afterId + '"]', list) : null;
    if (anchor) {
      anchor.after(card);
    } else {
      list.insertBefore(card, list.firstChild);
    }
  }

  function move(card, stageId, afterId, reason, done) {
    var body = new FormData();
    body.append("stage", stageId);
    body.append("after", afterId || "");
    body.append("lost_reason", reason || "");
    body.append("mine", board.getAttribute("data-mine") || "");
    var url = board.getAttribute("data-move-url").replace("987654321", card.getAttribute("data-deal"));
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }).then(function (result) {
      if (result.ok) {
        var column = $('[data-column][data-stage="' + stageId + '"]', board);
        var focused = document.activeElement === card;
        place(card, column, afterId);
        if (focused || document.activeElement === document.body) card.focus();
        card.classList.add("is-moved");
        updateColumns(result.data.columns);
        say(result.data.message, { url: result.data.order_url, label: result.data.order_label });
        if (done) done(true, result.data);
      } else {
        var fields = (result.data && result.data.fields) || {};
        var message = (fields.lost_reason && fields.lost_reason[0]) || (result.data && result.data.detail) || board.getAttribute("data-error-text");
        if (done) done(false, result.data, message);
        else say(message, null, true);
      }
    }).catch(function () {
      var message = board.getAttribute("data-error-text");
      if (done) done(false, {}, message);
      else say(message, null, true);
    });
  }

  // ---- the move dialog (keyboard moves, and the lost reason) -----------------------------

  function kindOf(stageId) {
    var option = $('#move-stage option[value="' + stageId + '"]');
    return option ? option.getAttribute("data-kind") : "";
  }

  function showReason() {
    var select = $("#move-stage");
    var lost = kindOf(select.value) === "lost";
    $("[data-reason-field]", dialog).hidden = !lost;
    $("#move-reason").required = false; // the server says why it refuses
  }

  function openDialog(card, stageId, afterId) {
    if (!dialog) return;
    pending = { card: card, stage: stageId, after: afterId };
    $("[data-move-title]", dialog).textContent = card.getAttribute("data-title");
    $("#move-stage").value = stageId || columnOf(card).getAttribute("data-stage");
    $("#move-reason").value = "";
    $("[data-move-error]", dialog).textContent = "";
    showReason();
    dialog.showModal();
    (kindOf($("#move-stage").value) === "lost" && stageId ? $("#move-reason") : $("#move-stage")).focus();
  }

  function closeDialog(moved) {
    if (!pending) return;
    var card = pending.card;
    pending = null;
    if (dialog.open) dialog.close();
    if (!moved) say(board.getAttribute("data-not-moved") || "");
    if (card) card.focus();
  }

  if (dialog) {
    $("#move-stage").addEventListener("change", function () {
      if (pending) { pending.stage = $("#move-stage").value; pending.after = null; }
      showReason();
    });
    $("[data-move-cancel]", dialog).addEventListener("click", function () { closeDialog(false); });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); closeDialog(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!pending) return;
      var stageId = $("#move-stage").value;
      var afterId = pending.after;
      if (stageId !== pending.stage) afterId = null;
      var card = pending.card;
      move(card, stageId, afterId, $("#move-reason").value, function (ok, data, message) {
        if (ok) {
          closeDialog(true);
        } else {
          showReason();
          $("[data-reason-field]", dialog).hidden = false;
          $("[data-move-error]", dialog).textContent = message;
          $("#move-reason").focus();
        }
      });
    });
  }

  // ---- drag and drop -----------------------------------------------------------------------

  function dropAfter(list, y) {
    var cards = $all("[data-card]", list).filter(function (c) { return c !== dragged; });
    var after = null;
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (y > box.top + box.height / 2) after = cards[i];
      else break;
    }
    return after;
  }

  function request(card, column, afterCard) {
    var stageId = column.getAttribute("data-stage");
    var afterId = afterCard ? afterCard.getAttribute("data-deal") : null;
    if (column.getAttribute("data-kind") === "lost" && columnOf(card) !== column) {
      openDialog(card, stageId, afterId);
      return;
    }
    move(card, stageId, afterId, "", null);
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-card]");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    if (placeholder.parentNode) placeholder.parentNode.removeChild(placeholder);
    $all(".board-cards.is-over", board).forEach(function (l) { l.classList.remove("is-over"); });
  });

  board.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest("[data-column]");
    if (!dragged || !column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var list = cardsOf(column);
    $all(".board-cards.is-over", board).forEach(function (l) { if (l !== list) l.classList.remove("is-over"); });
    list.classList.add("is-over");
    var after = dropAfter(list, event.clientY);
    if (after) after.after(placeholder);
    else list.insertBefore(placeholder, list.firstChild);
  });

  board.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest("[data-column]");
    if (!dragged || !column) return;
    event.preventDefault();
    var card = dragged;
    var after = dropAfter(cardsOf(column), event.clientY);
    if (placeholder.parentNode) placeholder.parentNode.removeChild(placeholder);
    if (columnOf(card) === column) {
      var prev = card.previousElementSibling;
      while (prev && !prev.hasAttribute("data-card")) prev = prev.previousElementSibling;
      if (prev === after) return; // dropped where it was
    }
    request(card, column, after);
  });

  // ---- the keyboard --------------------------------------------------------------------------

  board.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move-open]");
    if (!button) return;
    openDialog(button.closest("[data-card]"), null, null);
  });

  board.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.hasAttribute || !card.hasAttribute("data-card")) return;
    var column = columnOf(card);
    if ((event.key === "m" || event.key === "M") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      openDialog(card, null, null);
      return;
    }
    if (!event.shiftKey) return;
    var cards = cardList(column);
    var index = cards.indexOf(card);
    var keep = function (ok) { if (ok) card.focus(); };
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var all = columns();
      var target = all[all.indexOf(column) + (event.key === "ArrowLeft" ? -1 : 1)];
      if (!target) return;
      event.preventDefault();
      if (target.getAttribute("data-kind") === "lost") {
        openDialog(card, target.getAttribute("data-stage"), null);
      } else {
        move(card, target.getAttribute("data-stage"), null, "", null);
        window.setTimeout(function () { card.focus(); }, 0);
      }
    } else if (event.key === "ArrowUp" && index > 0) {
      event.preventDefault();
      var above = index > 1 ? cards[index - 2].getAttribute("data-deal") : null;
      move(card, column.getAttribute("data-stage"), above, "", null);
      window.setTimeout(function () { keep(true); }, 0);
    } else if (event.key === "ArrowDown" && index < cards.length - 1) {
      event.preventDefault();
      move(card, column.getAttribute("data-stage"), cards[index + 1].getAttribute("data-deal"), "", null);
      window.setTimeout(function () { keep(true); }, 0);
    }
  });
})();
