// The voting booth (spec/60 §60.4): election → credential → choices → review →
// encrypted ballot → cast (receipt) or audit (opening, then vote again).
"use strict";

const booth = {
  call: null,        // the WebAssembly module (common.js loadModule)
  id: null,          // the election's context id
  info: null,        // GET /v1/public/elections/{id}
  view: null,        // the module's `load` answer (context hash computed here)
  credential: null,  // the typed credential, until the ballot is made
  wallet: null,      // an anonymous election: the module's `wallet` answer (no secret)
  choices: null,     // per contest: {blank, values}
  made: null,        // the module's `ballot` answer
  step: "election",
  outcome: null,     // after a cast or an audit
  spent: null,       // {op, sent, error}: a decision the module made whose post failed
  auditInterrupted: null, // {short}: an audit the module did not finish, on this page
  error: null,
};

const main = () => document.getElementById("main");

function announce(text) {
  document.getElementById("status").textContent = text;
}

function show(step, ...content) {
  booth.step = step;
  document.title = t("booth_title");
  document.querySelector(".skip").textContent = t("skip");
  const nav = document.getElementById("nav");
  nav.replaceChildren(el("a", { href: "/board/" }, t("board_title")), languageButton(render));
  const heading = el("h1", { tabindex: "-1", id: "step" }, t("step_" + step));
  main().replaceChildren(heading, ...content.filter(Boolean));
  heading.focus();
}

// After a trap (common.js ModuleTrapped, which wiped the old instance's memory): a fresh
// instance of the module with the election loaded into it again. The one way the page
// replaces its module (spec/60 §60.2). It fails closed: should the fresh instance fail
// too (it trapped while loading the election), the page keeps no instance at all, and
// every later call refuses with the message that says so, until the page is reloaded.
// `load` false: the caller loads the election itself (start, after a trap while loading
// it), which fetches the election afresh and checks its id, so it is not loaded twice.
async function restartModule(load = true) {
  booth.call = null;
  // A fresh instance holds no wallet: an anonymous voter opens it again.
  booth.wallet = null;
  try {
    const call = await loadModule();
    if (load && loadable(booth.info)) booth.view = call(OP.load, booth.info.params);
    booth.call = call;
  } catch (e) {
    throw failClosed(e);
  }
}

// The page keeps no instance: every later call refuses with the message that says the
// module could not be restarted, until the page is reloaded.
function failClosed(e) {
  const failed = new Error(t("module_restart_failed", e.detail || e.message));
  failed.restartFailed = true;
  booth.call = () => { throw failed; };
  return failed;
}

// A trap before anything was posted: the voter is back at the review of their choices
// (kept), or, in an anonymous election, at the wallet, whose secret went with the old
// instance, and then at the review; at the credential if the trap came before choices.
// A trap during an audit is more than a fault: the ballot went unchecked, and a device
// that cheats could abort every audit this way (spec/60 §60.2, an interrupted audit). The
// page says so, and keeps saying it, until the page is left.
async function recover(e, during) {
  const audit = during === OP.audit && booth.made;
  if (audit) booth.auditInterrupted = { short: booth.made.short };
  booth.made = null;
  booth.spent = null;
  booth.outcome = null;
  // An interrupted audit's warning replaces the plain notice of a restart, which would
  // only say to make the ballot again.
  booth.restarted = audit ? null : e;
  try {
    await restartModule();
    const anonymous = booth.view && booth.view.anonymous;
    booth.step = booth.choices && !anonymous && booth.credential ? "review" : "election";
  } catch (again) {
    booth.error = again;
  }
  render();
}

// The notice of a restart, shown once on the step the voter is sent back to.
function restartNotice() {
  if (!booth.restarted) return null;
  const notice = el("p", { class: "error", role: "alert", id: "module-restarted" }, booth.restarted.message);
  booth.restarted = null;
  return notice;
}

// The warning of an interrupted audit: on every step that leads to a new ballot.
function auditInterruptedNotice() {
  if (!booth.auditInterrupted) return null;
  return el("p", { class: "error", role: "alert", id: "audit-interrupted" }, el("strong", {}, t("audit_interrupted", booth.auditInterrupted.short)));
}

function failure(e) {
  return el("p", { class: "error", role: "alert" }, `${t("error")}: ${e.message}`, e.field ? ` (${e.field})` : "");
}

// ---- 1. the election ----

// The election named by the page's hash: a context id, 64 hex digits (spec/60 §60.4).
// Any other hash (an in-page anchor) names no election.
function electionInHash() {
  const found = /^#\/?([0-9a-fA-F]{64})$/.exec(location.hash);
  return found ? found[1].toLowerCase() : null;
}

async function start(afterTrap) {
  const id = electionInHash();
  // The warning of an interrupted audit stays as long as the page shows its election.
  if (id !== booth.id) booth.auditInterrupted = null;
  booth.id = id;
  // Nothing of another election's ballot carries over (the wallet form keeps choices it
  // finds: those of this election, after a trap).
  booth.choices = null;
  booth.credential = null;
  booth.wallet = null;
  booth.made = null;
  booth.spent = null;
  try {
    if (!booth.call) {
      booth.call = await loadModule();
      showCodeDigests();
    }
    if (!booth.id) return listElections();
    booth.view = null;
    booth.info = await api(`/v1/public/elections/${booth.id}`);
    if (loadable(booth.info)) {
      // An anonymous election's snapshot is served apart (it grows with the register):
      // the module checks it against the eligibility and the context hash binds its id.
      if (booth.info.params.eligibility) {
        booth.info.params.snapshot = await api(`/v1/public/elections/${booth.id}/snapshot`);
      }
      booth.view = booth.call(OP.load, booth.info.params);
      // The parameters must be those of the election the address names.
      if (booth.view.election !== booth.id) {
        const shown = booth.view.election;
        booth.view = null;
        throw new Error(t("wrong_election", shown, booth.id));
      }
    }
    booth.step = "election";
  } catch (e) {
    if (e.trapped) return startAfterTrap(e, afterTrap);
    booth.error = e;
  }
  render();
}

// A trap while loading the election is recovered from as at any other step (spec/60
// §60.2): a fresh instance, the election loaded again (and checked to be the one the
// address names), the notice of the restart. The trapped instance is never called
// again. A second trap in a row fails closed.
async function startAfterTrap(e, again) {
  if (again) {
    booth.error = failClosed(e);
    return render();
  }
  try {
    await restartModule(false);
  } catch (failed) {
    booth.error = failed;
    return render();
  }
  // No ballot was begun: the notice says the election was loaded again, not to make the
  // ballot again.
  booth.restarted = { message: t("module_trapped_loading") };
  return start(true);
}

// Whether the page loads the election into the module: whenever the board serves its
// parameters, except an anonymous election that is not voting, whose snapshot (as large
// as its register) would be fetched for a page that takes no ballot (spec/60 §60.4).
function loadable(info) {
  return Boolean(info && info.params && (!info.params.eligibility || info.phase === "voting"));
}

async function listElections() {
  const contexts = await api("/v1/public/contexts");
  const open = contexts.filter((c) => c.type === "election" && c.phase === "voting");
  booth.step = "list";
  booth.open = open;
  render();
}

function renderList() {
  show("election",
    el("h2", {}, t("elections_open")),
    booth.open.length === 0 ? el("p", {}, t("no_open")) :
      el("ul", {}, booth.open.map((c) => el("li", {}, el("a", { href: `#${c.id}` }, c.name)))),
    receiptChecker(() => booth.call));
}

function renderElection() {
  const info = booth.info;
  // The title the module read from the sealed manifest (covered by the context hash shown
  // below), not the board's copy of it.
  const title = booth.view ? booth.view.title : info.title || info.name;
  const parts = [el("h2", { id: "election-title" }, title), el("p", {}, `${t("phase")}: ${phaseName(info.phase)}`)];
  if (!booth.view || info.phase !== "voting") {
    parts.push(el("p", { class: "error", role: "alert" }, t("not_voting", phaseName(info.phase))));
    return show("election", ...parts);
  }
  parts.push(
    el("div", { class: "fingerprint" },
      el("p", {}, el("strong", {}, t("fingerprint"))),
      el("p", { class: "hash", id: "context-hash" }, booth.view.context_hash),
      el("p", { class: "muted" }, t("fingerprint_help"))),
    restartNotice(),
    auditInterruptedNotice(),
    booth.view.anonymous ? anonymityNote(booth.view.anonymous) : null,
    booth.view.anonymous ? walletForm() : credentialForm());
  show("election", ...parts);
}

// ---- 2. the credential (or, in an anonymous election, the wallet) ----

function anonymityNote(a) {
  return el("p", { id: "anonymity" }, t("anonymous_info", a.bucket_size, a.snapshot, a.people));
}

// The wallet file is read from the voter's device and handed to the module with the
// passphrase; the module opens it, finds its key in the snapshot and keeps its secret
// (spec/60 §60.2). Nothing of it is sent anywhere.
function walletForm() {
  const file = el("input", { type: "file", id: "wallet-file", "aria-describedby": "wallet-help" });
  const pass = el("input", { type: "password", id: "wallet-passphrase", autocomplete: "off", "aria-describedby": "wallet-help" });
  const problem = el("p", { id: "wallet-error", class: "error", role: "alert" });
  return el("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      problem.textContent = "";
      try {
        const chosen = file.files[0];
        if (!chosen) throw new Error(t("wallet_none"));
        announce(t("wallet_opening"));
        const bytes = new Uint8Array(await chosen.arrayBuffer());
        booth.wallet = booth.call(OP.wallet, { wallet: hex(bytes), passphrase: pass.value });
        pass.value = "";
        // Opened again after a trap, the wallet finds the voter's choices where they were.
        if (booth.choices) {
          booth.step = "review";
        } else {
          booth.choices = booth.view.contests.map((c) => ({ blank: false, values: c.options.map(() => 0) }));
          booth.step = "choose";
        }
        render();
        announce(t("wallet_opened", booth.wallet.ring_size, booth.wallet.registered));
      } catch (e) {
        if (e.trapped) return recover(e);
        // A passphrase refused stays no longer in the page than one accepted.
        pass.value = "";
        problem.textContent = `${t("error")}: ${e.message}`;
        pass.setAttribute("aria-invalid", "true");
        pass.focus();
      }
    },
  },
  el("h2", {}, t("step_wallet")),
  el("label", { for: "wallet-file" }, t("wallet_label")), file,
  el("label", { for: "wallet-passphrase" }, t("passphrase_label")), pass,
  el("p", { id: "wallet-help", class: "muted" }, t("wallet_help")),
  problem,
  el("button", { type: "submit", id: "wallet-continue" }, t("continue")));
}

function credentialForm() {
  const input = el("input", { type: "text", id: "credential", name: "credential", autocomplete: "off", spellcheck: "false", "aria-describedby": "credential-help" });
  const problem = el("p", { id: "credential-error", class: "error", role: "alert" });
  const form = el("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      problem.textContent = "";
      try {
        const key = booth.call(OP.credential, { credential: input.value });
        const listed = await api(`/v1/public/elections/${booth.id}/credentials/${key}`);
        if (!listed.listed) throw new Error(t("not_listed"));
        booth.credential = input.value;
        input.value = "";
        booth.choices = booth.view.contests.map((c) => ({ blank: false, values: c.options.map(() => 0) }));
        booth.step = "choose";
        render();
      } catch (e) {
        if (e.trapped) return recover(e);
        problem.textContent = `${t("error")}: ${e.message}`;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    },
  },
  el("h2", {}, t("step_credential")),
  el("label", { for: "credential" }, t("credential_label")),
  input,
  el("p", { id: "credential-help", class: "muted" }, t("credential_help")),
  problem,
  el("button", { type: "submit", id: "credential-continue" }, t("continue")));
  return form;
}

// ---- 3. choices, checked against each contest's rule ----

function ruleText(c) {
  if (c.kind === "single") return t("single_rule");
  if (c.kind === "budget") return t("budget_rule", c.min, c.max, c.min_spend, c.budget);
  if (c.kind === "approval") return c.min === c.max ? t("approval_rule_exact", c.min) : t("approval_rule", c.min, c.max);
  return t("cumulative_rule", c.min, c.max, c.per_option_max);
}

// What a budget ballot spends: costs are below 2^53, exact as JavaScript numbers (spec/21).
function spend(c, choice) {
  return c.costs.reduce((total, cost, i) => total + cost * choice.values[i], 0);
}

// The contest's rule (spec/21 §21.4), in words: null when the choice follows it.
function problemWith(c, choice) {
  const chosen = choice.values.filter((v) => v > 0).length;
  const total = choice.values.reduce((a, b) => a + b, 0);
  if (choice.blank) return chosen > 0 ? t("err_blank_and") : null;
  if (c.kind === "single") return chosen === 1 ? null : t(c.blank ? "err_single" : "err_single_noblank");
  if (c.kind === "budget") {
    const spent = spend(c, choice);
    if (chosen < c.min) return t("err_few_projects", c.min, chosen);
    if (chosen > c.max) return t("err_many_projects", c.max, chosen);
    if (spent > c.budget) return t("err_over_budget", spent, c.budget);
    if (spent < c.min_spend) return t("err_under_spend", c.min_spend, spent);
    return null;
  }
  if (c.kind === "approval") {
    if (chosen < c.min) return t("err_few", c.min, chosen);
    if (chosen > c.max) return t("err_many", c.max, chosen);
    return null;
  }
  if (choice.values.some((v) => v > c.per_option_max || v < 0 || !Number.isInteger(v))) return t("err_points_one", c.per_option_max);
  if (total < c.min || total > c.max) return t("err_points_total", c.min, c.max, total);
  return null;
}

function renderChoose(problems) {
  const contests = booth.view.contests.map((c, ci) => {
    const choice = booth.choices[ci];
    const name = `contest-${ci}`;
    const options = c.options.map((label, oi) => {
      const id = `${name}-option-${oi}`;
      if (c.kind === "cumulative") {
        return el("label", { for: id },
          el("input", { type: "number", id, min: 0, max: c.per_option_max, step: 1, value: choice.values[oi],
            "aria-label": t("points_for", label),
            oninput: (e) => { choice.values[oi] = Number(e.target.value); } }), label);
      }
      const single = c.kind === "single";
      return el("label", { for: id },
        el("input", { type: single ? "radio" : "checkbox", name, id, checked: choice.values[oi] === 1 && !choice.blank,
          onchange: (e) => {
            if (single) { choice.values.fill(0); choice.blank = false; }
            choice.values[oi] = e.target.checked ? 1 : 0;
            const total = document.getElementById(`${name}-total`);
            if (total) total.textContent = t("spent", spend(c, choice), c.budget);
          } }), " ", label, c.kind === "budget" ? el("span", { class: "muted" }, ` — ${t("cost", c.costs[oi])}`) : null);
    });
    if (c.blank) {
      const id = `${name}-blank`;
      options.push(el("label", { for: id },
        el("input", { type: c.kind === "single" ? "radio" : "checkbox", name, id, checked: choice.blank,
          onchange: (e) => {
            choice.blank = e.target.checked;
            if (c.kind === "single" && choice.blank) choice.values.fill(0);
          } }), " ", el("em", {}, t("blank_vote"))));
    }
    const problem = problems && problems[ci];
    return el("fieldset", { id: `${name}`, "aria-invalid": problem ? "true" : false, "aria-describedby": `${name}-rule ${name}-error` },
      el("legend", {}, c.title),
      el("p", { class: "rule", id: `${name}-rule` }, ruleText(c)),
      ...options,
      c.kind === "budget" ? el("p", { id: `${name}-total`, "aria-live": "polite" }, t("spent", spend(c, choice), c.budget)) : null,
      el("p", { class: "error", id: `${name}-error` }, problem || ""));
  });
  const failing = problems ? problems.filter(Boolean).length : 0;
  const summary = failing ? el("div", { class: "errors", role: "alert", id: "choice-errors", tabindex: "-1" },
    el("p", {}, t("err_summary", failing)),
    el("ul", {}, booth.view.contests.map((c, i) => problems[i] ? el("li", {}, el("a", { href: `#contest-${i}`, onclick: (e) => { e.preventDefault(); document.querySelector(`#contest-${i} input`).focus(); } }, `${c.title}: ${problems[i]}`)) : null))) : null;
  show("choose", auditInterruptedNotice(), summary, el("form", {
    onsubmit: (event) => {
      event.preventDefault();
      const found = booth.view.contests.map((c, i) => problemWith(c, booth.choices[i]));
      if (found.some(Boolean)) {
        renderChoose(found);
        document.getElementById("choice-errors").focus();
        return;
      }
      booth.step = "review";
      render();
    },
  }, ...contests, el("button", { type: "submit", id: "review" }, t("review"))));
}

// ---- 4. review ----

function describeChoice(c, choice) {
  if (choice.blank) return [t("blank_vote")];
  const picked = c.options.map((o, i) => [o, choice.values[i]]).filter(([, v]) => v > 0)
    .map(([o, v]) => (c.kind === "cumulative" ? `${o}: ${v}` : o));
  return picked.length ? picked : [t("nothing")];
}

function renderReview() {
  const list = el("dl", { id: "review-list" }, booth.view.contests.map((c, i) => [
    el("dt", {}, el("strong", {}, c.title)),
    el("dd", {}, describeChoice(c, booth.choices[i]).join(", ")),
  ]));
  const problem = el("div", { id: "ballot-error" });
  const encrypt = el("button", {
    type: "button", id: "encrypt",
    onclick: () => {
      encrypt.disabled = true;
      announce(t("encrypting"));
      try {
        const started = performance.now();
        const request = booth.view.anonymous ? { selections: booth.choices } : { credential: booth.credential, selections: booth.choices };
        booth.made = booth.call(OP.ballot, request);
        booth.spent = null;
        booth.made.ms = performance.now() - started;
        booth.step = "ballot";
        render();
      } catch (e) {
        if (e.trapped) return recover(e);
        encrypt.disabled = false;
        problem.replaceChildren(failure(e));
      }
    },
  }, t("encrypt"));
  show("review", restartNotice(), auditInterruptedNotice(), list, problem,
    el("button", { type: "button", class: "secondary", onclick: () => { booth.step = "choose"; render(); } }, t("back")),
    encrypt);
}

// ---- 5. the encrypted ballot: cast or audit ----

function renderBallot() {
  const problem = el("div", { id: "post-error" });
  const buttons = [];
  const decide = async (op) => {
    buttons.forEach((b) => { b.disabled = true; });
    announce(t("posting"));
    // The signed record, once the module made it: kept should its post go unanswered.
    let sent = null;
    try {
      const outcome = booth.call(op, {});
      sent = outcome;
      const posted = await api("/v1/records", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ record: outcome.record }),
      });
      outcome.index = posted.index;
      booth.outcome = outcome;
      if (op === OP.cast) return castDone(outcome);
      booth.step = "audit";
      render();
    } catch (e) {
      if (e.trapped) return recover(e, op);
      // The module has spent this ballot (a cast or an audit wipes it) whatever the board
      // answered. What followed is kept with the booth, not only drawn, so that a redraw
      // (the language switched) shows the same state: no Cast or Audit of a spent ballot,
      // a cast's record still offered again.
      booth.spent = { op, sent, error: e };
      // An audit that ends in an error is interrupted as much as one that trapped: the
      // module refused to open this device's own ballot (it fails its audit: the
      // strongest sign of a cheating device), or the board refused or never answered the
      // opening, which is then lost with the ballot. The page warns as for a trap, on
      // this step and every later one that leads to a new ballot (spec/60 §60.2).
      if (op === OP.audit && booth.made) booth.auditInterrupted = { short: booth.made.short };
      buttons.forEach((b) => { b.disabled = true; });
      showSpent(problem);
    }
  };
  buttons.push(
    el("button", { type: "button", id: "cast", onclick: () => decide(OP.cast) }, t("cast")),
    el("button", { type: "button", id: "audit", class: "secondary", onclick: () => decide(OP.audit) }, t("audit")));
  if (booth.spent) buttons.forEach((b) => { b.disabled = true; });
  show("ballot",
    auditInterruptedNotice(),
    el("p", {}, t("tracking")),
    el("p", { class: "tracking", id: "tracking-code" }, booth.made.short),
    el("p", { class: "muted" }, t("tracking_help")),
    el("p", { class: "muted", id: "measure", "data-ms": booth.made.ms.toFixed(1) }, t("measure", booth.made.ms.toFixed(0))),
    el("p", {}, t("cast_or_audit")),
    el("p", { class: "error", id: "audit-warning" }, t(booth.view.anonymous ? "audit_warning_anonymous" : "audit_warning")),
    problem, ...buttons);
  if (booth.spent) showSpent(problem);
}

// What follows a spent ballot whose post failed (booth.spent): a cast the board may have
// stored offers its record again; anything else is an error and a new ballot, with the
// warning of an interrupted audit after an audit.
function showSpent(problem) {
  const { op, sent, error } = booth.spent;
  if (op === OP.cast && sent && unanswered(error)) return castUncertain(problem, sent, error);
  const interrupted = op === OP.audit && booth.auditInterrupted;
  // The warning of an interrupted audit, at the top, gives way to this one beside the error.
  const earlier = document.getElementById("audit-interrupted");
  if (interrupted && earlier) earlier.remove();
  problem.replaceChildren(...[interrupted ? auditInterruptedNotice() : null, failure(error),
    el("button", { type: "button", id: "new-ballot", onclick: newBallot }, t("new_ballot"))].filter(Boolean));
  problem.querySelector("#new-ballot").focus();
}

// A new ballot from the same choices, the last one spent. In an anonymous election a cast
// also dropped the wallet's secret from the module: the voter opens the wallet again, and
// is then back at the review of their choices.
function newBallot() {
  const castTried = booth.spent && booth.spent.op === OP.cast;
  booth.made = null;
  booth.outcome = null;
  booth.spent = null;
  if (castTried && booth.view && booth.view.anonymous) {
    booth.wallet = null;
    booth.step = "election";
  } else {
    booth.step = "review";
  }
  render();
}

// A cast on the board, at `outcome.index`: nothing of this ballot stays in the page (not
// the credential, not the choices, not the last receipt's state), and its receipt is made.
function castDone(outcome) {
  booth.outcome = outcome;
  booth.spent = null;
  booth.credential = null;
  booth.choices = null;
  // The module dropped the wallet's secret with the cast (a revote opens it again).
  booth.wallet = null;
  booth.receipt = null;
  booth.receiptError = null;
  booth.step = "cast";
  render();
  makeReceipt().catch(async (e) => {
    // The ballot is on the board: after a trap, a fresh module makes its receipt.
    if (e.trapped) {
      try {
        await restartModule();
        return await makeReceipt();
      } catch (again) {
        e = again;
      }
    }
    booth.receiptError = e;
    render();
  });
}

// A post the board may have stored (spec/13 §13.2): it answered `timeout` or
// `maybe-stored`, did not answer at all, or something between answered a server error (a
// proxy's 502 says nothing of whether the board stored the record). The record is looked
// up before it is sent again, so taking any of these as "maybe stored" costs nothing.
function unanswered(e) {
  return !(e instanceof BoardError) || e.status >= 500;
}

// After a cast post that went unanswered the page keeps the signed record (it holds no
// secret: it is what the board publishes) and offers to look it up and, if the board
// does not hold it, to send the same bytes again, so that a ballot that landed still
// gets its receipt, and one that did not lands once (spec/60 §60.4).
function castUncertain(problem, outcome, e) {
  const resend = el("button", {
    type: "button", id: "resend-cast",
    onclick: async () => {
      resend.disabled = true;
      announce(t("posting"));
      try {
        outcome.index = await resendCast(outcome);
        castDone(outcome);
      } catch (again) {
        booth.spent = { op: OP.cast, sent: outcome, error: again };
        showSpent(problem);
      }
    },
  }, t("resend_cast"));
  problem.replaceChildren(failure(e), el("p", { id: "cast-uncertain" }, t("cast_uncertain")), resend,
    el("button", { type: "button", id: "new-ballot", class: "secondary", onclick: newBallot }, t("new_ballot")));
  resend.focus();
}

// The index of a record the board holds, looked up by its leaf hash; null if it holds
// none (spec/13 §13.1, `GET /v1/records/<hash>`).
async function boardIndexOf(hash) {
  const response = await fetch(`/v1/records/${hash}`);
  if (response.status === 404) return null;
  if (!response.ok) throw new BoardError(response.status, await response.json().catch(() => null));
  const index = Number(response.headers.get("x-urne-index"));
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`x-urne-index: ${response.headers.get("x-urne-index")}`);
  return index;
}

// Looks the cast record up; sends it again if the board does not hold it. The same bytes
// taken meanwhile are refused as a `duplicate`: looked up again, they are the index.
async function resendCast(outcome) {
  const held = await boardIndexOf(outcome.hash);
  if (held !== null) return held;
  try {
    const posted = await api("/v1/records", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ record: outcome.record }),
    });
    return posted.index;
  } catch (e) {
    if (e instanceof BoardError && e.code === "duplicate") {
      // The board holds the record; the index that finds it by hash may lag a moment
      // behind the check that called it a duplicate.
      for (let tries = 0; tries < 10; tries += 1) {
        const taken = await boardIndexOf(outcome.hash);
        if (taken !== null) return taken;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw e;
  }
}

// ---- after a cast: the receipt (spec/52), made once the board's checkpoint covers it ----

async function makeReceipt() {
  const o = booth.outcome;
  const board = await api("/v1/board");
  const deadline = Date.now() + 30000;
  for (;;) {
    const note = await api("/checkpoint");
    const size = parseCheckpoint(note).size;
    if (size > o.index) {
      try {
        const proof = await api(`/v1/proof/inclusion?index=${o.index}&size=${size}`);
        const made = booth.call(OP.receipt, {
          election: booth.id, tracking_code: o.tracking_code, index: o.index, record: o.record,
          inclusion: proof.proof, checkpoint: note, vkey: board.vkey,
        });
        booth.receipt = made.receipt;
        booth.vkey = board.vkey;
        return render();
      } catch (e) {
        if (!(e instanceof BoardError) || Date.now() > deadline) throw e;
      }
    }
    if (Date.now() > deadline) throw new Error(t("waiting_checkpoint"));
    await new Promise((r) => setTimeout(r, 400));
  }
}

function renderCast() {
  const o = booth.outcome;
  const parts = [
    el("p", { class: "ok", id: "cast-done" }, t("cast_done", o.index)),
    el("p", {}, t("tracking")), el("p", { class: "tracking", id: "tracking-code" }, o.short),
  ];
  if (booth.receiptError) {
    parts.push(failure(booth.receiptError));
  } else if (!booth.receipt) {
    parts.push(el("p", { role: "status" }, t("waiting_checkpoint")));
  } else {
    const result = el("div", { id: "receipt-result" });
    const link = download(`urne-receipt-${o.short}.json`, booth.receipt);
    link.id = "download-receipt";
    link.textContent = t("download_receipt");
    parts.push(
      el("h2", {}, t("receipt")), el("p", { class: "muted" }, t("receipt_help")),
      el("pre", { id: "receipt" }, booth.receipt),
      link,
      el("button", { type: "button", id: "check-receipt", class: "secondary", onclick: () => checkReceipt(booth.call, booth.receipt, result) }, t("check_receipt")),
      result, receiptChecker(() => booth.call));
  }
  show("cast", ...parts);
}

// ---- after an audit: the opening, the independent check, and a fresh ballot ----

function renderAudit() {
  const o = booth.outcome;
  const table = (c) => el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, t("option")), el("th", { class: "num" }, t("value")), el("th", {}, t("nonce")))),
    el("tbody", {}, c.values.map((v) => el("tr", {}, el("td", {}, v.label), el("td", { class: "num" }, v.value), el("td", { class: "hash" }, v.nonce)))));
  const file = download(`urne-audit-${o.short}.json`, JSON.stringify({ election: booth.id, tracking_code: o.tracking_code, index: o.index, record: o.record }, null, 2));
  file.id = "download-audit";
  file.textContent = t("download_audit");
  show("audit",
    el("p", { class: "error", id: "audit-done" }, t("audit_done", o.index)),
    el("p", {}, t("tracking")), el("p", { class: "tracking", id: "tracking-code" }, o.short),
    el("p", {}, t("audit_shows")),
    ...o.contests.map((c) => el("section", { class: "opened" }, el("h2", {}, c.title), table(c))),
    el("p", {}, t("audit_check")),
    el("pre", { id: "audit-command" }, `urne audit --board ${location.origin} --election ${booth.id} --tracking-code ${o.short}`),
    el("p", {}, el("a", { id: "audit-link", href: `/board/#lookup/${o.short}` }, t("audit_link"))),
    file,
    el("button", { type: "button", id: "again", onclick: () => { booth.outcome = null; booth.made = null; booth.step = "choose"; render(); } }, t("again")));
}

function render() {
  document.documentElement.lang = LANG;
  if (booth.error) return show("election", failure(booth.error), auditInterruptedNotice(), el("button", { type: "button", id: "retry", onclick: () => { booth.error = null; start(); } }, t("retry")));
  switch (booth.step) {
    case "list": return renderList();
    case "choose": return renderChoose(null);
    case "review": return renderReview();
    case "ballot": return renderBallot();
    case "cast": return renderCast();
    case "audit": return renderAudit();
    default: return renderElection();
  }
}

window.addEventListener("hashchange", () => {
  const id = electionInHash();
  // Only another election (or none: back to the list) starts over; an anchor, or the same
  // id again, keeps the voter's progress.
  if (id === booth.id || (id === null && location.hash.replace(/^#\/?/, "") !== "")) return;
  booth.step = "election";
  start();
});
start();
