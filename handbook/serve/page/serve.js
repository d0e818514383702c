// The preview page: asks the server for news (a long poll) and swaps in the pictures
// that changed, in place, so the scroll position stays. Text goes in as textContent.
"use strict";

let version = -1;
let savedAt = null; // when the files of the build under way were saved, seen while it ran

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showProblems(problems) {
  const panel = document.getElementById("problems");
  const list = document.getElementById("problem-list");
  list.replaceChildren(
    ...problems.map((problem) => {
      const item = element("li", "problem");
      item.append(element("code", "where", problem.where), element("span", "message", problem.message));
      if (problem.hint) item.append(element("span", "hint", "hint: " + problem.hint));
      return item;
    }),
  );
  panel.hidden = problems.length === 0;
  document.body.classList.toggle("failed", problems.length > 0);
}

// A picture's figure, made once and then kept; only its image's src changes.
function figure(picture, caption, anchor) {
  let node = document.getElementById(anchor);
  if (!node) {
    node = element("figure", "sheet");
    node.id = anchor;
    const img = element("img");
    img.alt = caption;
    img.decoding = "async";
    node.append(img, element("figcaption", "", caption));
  }
  const img = node.querySelector("img");
  img.width = picture.width;
  img.height = picture.height;
  img.alt = caption;
  node.querySelector("figcaption").textContent = caption;
  if (img.getAttribute("src") === picture.src) return { node, loaded: Promise.resolve(false) };
  const loaded = new Promise((resolve) => {
    const next = new Image();
    next.onload = () => {
      img.src = picture.src;
      img.dataset.version = picture.src;
      if (img.dataset.shown) flash(node);
      img.dataset.shown = "1";
      resolve(true);
    };
    next.onerror = () => resolve(false);
    next.src = picture.src;
  });
  return { node, loaded };
}

function flash(node) {
  node.classList.remove("updated");
  void node.offsetWidth; // restart the animation
  node.classList.add("updated");
}

function place(container, nodes) {
  nodes.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
}

function links(list, entries) {
  list.replaceChildren(
    ...entries.map(([text, target, level]) => {
      const item = element("li", "level-" + Math.min(level, 3));
      const link = element("a", "", text);
      link.href = "#" + target;
      item.append(link);
      return item;
    }),
  );
}

function apply(state) {
  version = state.version;
  if (state.title) {
    document.getElementById("title").textContent = state.title;
    document.title = state.title + " · preview";
  }
  const status = document.getElementById("status");
  if (state.building) {
    // Pictures arrive as their outputs are written; problems and timing when it ends.
    if (state.saved_at) savedAt = state.saved_at;
    status.textContent = "Building…";
    status.className = "status building";
  } else {
    showProblems(state.problems);
  }
  const loads = [];
  const pages = state.pages.map((page, index) => {
    const made = figure(page, "Page " + (index + 1), page.name);
    loads.push(made.loaded);
    return made.node;
  });
  const cards = state.cards.map((card) => {
    const made = figure(card, card.title, card.name);
    loads.push(made.loaded);
    return made.node;
  });
  place(document.getElementById("pages"), pages);
  place(document.getElementById("cards"), cards);
  links(document.getElementById("contents"), state.contents.map((h) => [h.title, "page-" + h.page, h.level]));
  links(document.getElementById("card-links"), state.cards.map((c) => [c.title, c.name, 0]));
  Promise.all(loads).then((changed) => {
    if (state.building) {
      if (savedAt && changed.some(Boolean)) {
        const seconds = Math.max(0, Date.now() / 1000 - savedAt);
        status.textContent = "Updated " + seconds.toFixed(2) + " s after the save; building the rest…";
      }
      return;
    }
    const saved = savedAt;
    savedAt = null;
    if (state.problems.length) {
      status.textContent = state.problems.length === 1 ? "1 problem" : state.problems.length + " problems";
      status.className = "status failed";
    } else if (saved) {
      const seconds = Math.max(0, Date.now() / 1000 - saved);
      status.textContent = "Updated " + seconds.toFixed(2) + " s after the save";
      status.className = "status ok";
    } else {
      status.textContent = "Up to date";
      status.className = "status ok";
    }
    document.body.dataset.version = String(state.version);
  });
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch("/state?since=" + version, { cache: "no-store" });
      if (!response.ok) throw new Error(response.statusText);
      const state = await response.json();
      if (state.version !== version) apply(state);
    } catch (error) {
      const status = document.getElementById("status");
      status.textContent = "The preview server stopped";
      status.className = "status failed";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

poll();
