// The public pages (spec/61): every context with its phase and counts, the latest
// checkpoint and who signed it, an election's results as a chart once published,
// petitions, sittings, and the ballot lookup by tracking code.
"use strict";

const page = () => document.getElementById("main");

// The booth's module, loaded only when a receipt is checked here.
let boardModule = null;

function frame(...content) {
  document.title = t("board_title");
  document.documentElement.lang = LANG;
  document.querySelector(".skip").textContent = t("skip");
  document.getElementById("nav").replaceChildren(
    el("a", { href: "#" }, t("all_contexts")), el("a", { href: "/booth/" }, t("go_vote")), languageButton(route));
  page().replaceChildren(...content.filter(Boolean));
}

function failed(e) {
  frame(el("p", { class: "error", role: "alert" }, `${t("error")}: ${e.message}`));
}

function countsText(counts) {
  return Object.entries(counts).map(([k, v]) => `${v} ${t(k)}`).join(", ");
}

async function checkpointPanel() {
  const [note, board] = await Promise.all([api("/checkpoint"), api("/v1/board")]);
  const c = parseCheckpoint(note);
  return el("section", { id: "checkpoint" },
    el("h2", {}, t("latest_checkpoint")),
    el("table", {}, el("tbody", {},
      el("tr", {}, el("th", {}, t("size")), el("td", { id: "checkpoint-size" }, c.size)),
      el("tr", {}, el("th", {}, t("root")), el("td", { class: "hash" }, c.root)),
      el("tr", {}, el("th", {}, t("cosigned_by")), el("td", { id: "checkpoint-signers" }, c.signers.join(", "))),
      el("tr", {}, el("th", {}, t("witnesses")), el("td", {}, board.witnesses.length ? board.witnesses.map((w) => w.split("+")[0]).join(", ") : t("none"))),
      el("tr", {}, el("th", {}, t("board_key")), el("td", { class: "hash" }, board.vkey)))));
}

function lookupForm(initial) {
  const input = el("input", { type: "text", id: "lookup-code", value: initial || "", autocomplete: "off" });
  return el("form", { id: "lookup", onsubmit: (e) => { e.preventDefault(); location.hash = `#lookup/${input.value.trim()}`; } },
    el("h2", {}, t("lookup")), el("label", { for: "lookup-code" }, t("lookup_label")), input,
    el("button", { type: "submit" }, t("find")));
}

async function home() {
  const contexts = await api("/v1/public/contexts");
  const rows = contexts.map((c) => el("tr", {},
    el("td", {}, el("a", { href: `#${c.type}/${c.id}` }, c.name)),
    el("td", {}, t(c.type)), el("td", { class: "phase", "data-phase": c.phase }, phaseName(c.phase)),
    el("td", {}, countsText(c.counts))));
  frame(el("h1", {}, t("board_title")),
    el("h2", {}, t("contexts")),
    el("table", { id: "contexts" },
      el("thead", {}, el("tr", {}, el("th", {}, t("name")), el("th", {}, t("type")), el("th", {}, t("phase")), el("th", {}, t("counts")))),
      el("tbody", {}, rows)),
    await checkpointPanel(), lookupForm(""), receiptChecker(() => boardModule));
}

// A horizontal bar per option: drawn as SVG, the figures also in a table beside it.
function chart(labels, counts) {
  const svg = "http://www.w3.org/2000/svg";
  const max = Math.max(1, ...counts);
  const row = 28;
  const node = document.createElementNS(svg, "svg");
  node.setAttribute("class", "chart");
  node.setAttribute("viewBox", `0 0 600 ${labels.length * row}`);
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", labels.map((l, i) => `${l}: ${counts[i]}`).join("; "));
  labels.forEach((label, i) => {
    const text = document.createElementNS(svg, "text");
    text.setAttribute("x", "0");
    text.setAttribute("y", String(i * row + 19));
    text.textContent = label;
    const bar = document.createElementNS(svg, "rect");
    bar.setAttribute("class", "bar");
    bar.setAttribute("x", "200");
    bar.setAttribute("y", String(i * row + 5));
    bar.setAttribute("height", "18");
    bar.setAttribute("width", String(Math.round((340 * counts[i]) / max)));
    const figure = document.createElementNS(svg, "text");
    figure.setAttribute("x", String(205 + Math.round((340 * counts[i]) / max)));
    figure.setAttribute("y", String(i * row + 19));
    figure.textContent = String(counts[i]);
    node.append(text, bar, figure);
  });
  return node;
}

async function election(id) {
  const e = await api(`/v1/public/elections/${id}`);
  const facts = el("table", {}, el("tbody", {},
    el("tr", {}, el("th", {}, t("phase")), el("td", { id: "phase" }, phaseName(e.phase))),
    e.context_hash ? el("tr", {}, el("th", {}, t("board_fingerprint")), el("td", { class: "hash", id: "context-hash" }, e.context_hash)) : null,
    e.credentials !== null ? el("tr", {}, el("th", {}, t("credentials")), el("td", { class: "num" }, e.credentials)) : null,
    e.anonymous ? el("tr", {}, el("th", {}, t("anonymous_voters")), el("td", { id: "anonymity" },
      t("anonymous_detail", e.anonymous.snapshot, e.anonymous.people, e.anonymous.buckets, e.anonymous.bucket_size))) : null,
    el("tr", {}, el("th", {}, t("ballots_cast")), el("td", { class: "num", id: "ballots" }, e.ballots)),
    el("tr", {}, el("th", {}, t("audits_posted")), el("td", { class: "num", id: "audits" }, e.audits))));
  const results = [el("h2", {}, t("results"))];
  if (!e.result) {
    results.push(el("p", {}, t("no_result")));
  } else {
    e.contests.forEach((c, ci) => {
      const labels = c.options.concat(c.blank ? [t("blank_vote")] : []);
      const counts = e.result.counts[ci] || [];
      const funding = (e.result.funded || []).find((f) => f.contest === ci);
      results.push(el("section", { class: "result", id: `result-${ci}` }, el("h3", {}, c.title), chart(labels, counts),
        funding ? el("p", { class: "ok", id: `funded-${ci}` }, t("funded", funding.projects.map((p) => c.options[p]).join(", ") || t("none"), funding.money_used, c.budget)) : null,
        el("table", {}, el("tbody", {}, labels.map((l, i) => el("tr", {}, el("td", {}, l), el("td", { class: "num", "data-count": counts[i] }, counts[i])))))));
    });
    results.push(el("p", { id: "counted" }, t("counted", e.result.ballots, e.result.superseded, e.result.trustees.join(", "))));
  }
  frame(el("h1", {}, e.title || e.name), facts,
    e.phase === "voting" ? el("p", {}, el("a", { class: "button", href: `/booth/#${e.id}` }, t("go_vote"))) : null,
    ...results, await checkpointPanel());
}

async function petition(id) {
  const p = await api(`/v1/public/petitions/${id}`);
  frame(el("h1", {}, p.name), el("table", {}, el("tbody", {},
    el("tr", {}, el("th", {}, t("phase")), el("td", { id: "phase" }, phaseName(p.phase))),
    el("tr", {}, el("th", {}, t("scope")), el("td", {}, p.scope || "")),
    el("tr", {}, el("th", {}, t("signatures")), el("td", { class: "num", id: "signatures" }, p.signatures)),
    el("tr", {}, el("th", {}, t("withdrawn")), el("td", { class: "num" }, p.withdrawn)),
    el("tr", {}, el("th", {}, t("threshold")), el("td", { class: "num" }, p.threshold === null ? "" : p.threshold)),
    el("tr", {}, el("th", {}, t("deadline")), el("td", {}, p.deadline ? new Date(p.deadline * 1000).toISOString() : "")))),
    p.threshold ? chart([t("signatures"), t("threshold")], [p.signatures, p.threshold]) : null,
    p.reached === null ? null : el("p", { class: p.reached ? "ok" : "error" }, t(p.reached ? "reached" : "not_reached")),
    await checkpointPanel());
}

async function sitting(id) {
  const s = await api(`/v1/public/sittings/${id}`);
  frame(el("h1", {}, s.name), el("table", {}, el("tbody", {},
    el("tr", {}, el("th", {}, t("phase")), el("td", { id: "phase" }, phaseName(s.phase))),
    el("tr", {}, el("th", {}, t("members")), el("td", { class: "num" }, s.members)),
    el("tr", {}, el("th", {}, t("present")), el("td", { class: "num" }, s.present)),
    el("tr", {}, el("th", {}, t("quorum")), el("td", { class: "num" }, s.quorum)))),
    el("h2", {}, t("divisions")),
    ...s.divisions.map((d) => el("section", {}, el("h3", {}, `${t("division")} ${d.division} — ${phaseName(d.status)}${d.secret ? ` (${t("secret")})` : ""}`),
      el("p", { class: "hash muted" }, d.text_hash),
      d.counts ? chart(d.choices, d.counts) : el("p", {}, `${d.votes} ${t("votes")}`))),
    await checkpointPanel());
}

async function lookup(code) {
  const found = await api(`/v1/public/lookup?code=${encodeURIComponent(code)}`);
  const items = found.map((f) => el("section", { class: "found" },
    el("p", {}, el("span", { class: "tracking" }, f.short)),
    el("p", {}, t(f.kind === "audit" ? "lookup_audit" : "lookup_cast", f.index, ""), el("a", { href: `#election/${f.election}` }, f.election)),
    f.audit ? el("div", {},
      el("p", { class: f.audit.passed ? "ok" : "error", id: "audit-verdict" }, f.audit.passed ? t("audit_passed") : t("audit_failed", f.audit.problem)),
      ...f.audit.contests.map((c) => el("section", {}, el("h3", {}, c.title),
        el("ul", {}, c.values.filter(([, v]) => v > 0).map(([label, v]) => el("li", {}, v === 1 ? label : `${label}: ${v}`)))))) : null));
  frame(el("h1", {}, t("lookup")), lookupForm(code),
    found.length ? el("div", { id: "lookup-results" }, items) : el("p", { id: "lookup-results", class: "error" }, t("lookup_none")));
}

async function route() {
  const [what, arg] = decodeURIComponent(location.hash.replace(/^#/, "")).split("/");
  try {
    if (what === "election") await election(arg);
    else if (what === "petition") await petition(arg);
    else if (what === "sitting") await sitting(arg);
    else if (what === "lookup") await lookup(arg || "");
    else await home();
  } catch (e) {
    failed(e);
  }
  const heading = page().querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); }
}

window.addEventListener("hashchange", route);
route();
showCodeDigests();
