// Shared by the booth and the public pages (spec/60, spec/61): texts in English and
// French, DOM building without innerHTML (every text from the board is data, never
// markup), the board's JSON API, and the booth's WebAssembly module.
"use strict";

const TEXTS = {
  en: {
    lang_switch: "Français", skip: "Skip to content",
    booth_title: "urne — voting booth", board_title: "urne — public board",
    loading: "Loading…", error: "Error", retry: "Try again",
    elections_open: "Elections open for voting", no_open: "No election is open for voting on this board.",
    vote_in: "Vote", step_election: "1. The election", step_credential: "2. Your credential",
    step_choose: "3. Your choices", step_review: "4. Review", step_ballot: "5. Your encrypted ballot",
    step_cast: "Ballot cast", step_audit: "Ballot audited (not cast)",
    fingerprint: "Election fingerprint (context hash)",
    fingerprint_help: "Compare it with the fingerprint the election authority published. If they differ, do not vote here.",
    wrong_election: "The module computed the parameters of election {0}, not of {1}: this board serves another election's parameters under this address.",
    new_ballot: "Make a new ballot",
    cast_uncertain: "The board did not say whether it stored your cast ballot. This page kept the signed record: it can look it up on the board and, should it not be there, send the very same record again (the board never takes it twice).",
    resend_cast: "Look it up and send it again",
    phase: "Phase", not_voting: "This election is in its {0} phase: ballots are accepted only while voting is open.",
    credential_label: "Credential (from your voting card or letter)",
    credential_help: "It never leaves this page: the ballot is signed here.",
    continue: "Continue", back: "Change my choices", review: "Review my choices",
    not_listed: "This credential is not on this election's list of voters (another election's?).",
    single_rule: "Choose one option.", approval_rule: "Choose {0} to {1} options.",
    approval_rule_exact: "Choose {0} options.",
    cumulative_rule: "Give {0} to {1} points in total, at most {2} per option.",
    blank_vote: "Blank vote", points_for: "Points for {0}",
    budget_rule: "Choose {0} to {1} projects costing {2} to {3} in total.", cost: "cost {0}",
    spent: "Your projects cost {0} of the budget of {1}.",
    err_over_budget: "Your projects cost {0}, over the budget of {1}.",
    err_under_spend: "Spend at least {0} (your projects cost {1}).",
    err_few_projects: "Choose at least {0} projects (you chose {1}).", err_many_projects: "Choose at most {0} projects (you chose {1}).",
    funded: "Funded: {0} ({1} of the budget of {2}).",
    err_single: "Choose one option, or the blank vote.", err_single_noblank: "Choose one option.",
    err_few: "Choose at least {0} options (you chose {1}).", err_many: "Choose at most {0} options (you chose {1}).",
    err_points_one: "At most {0} points on one option.",
    err_points_total: "Give between {0} and {1} points in total (you gave {2}).",
    err_blank_and: "A blank vote selects nothing else: untick the blank vote or your options.",
    err_summary: "Your choices do not follow the rules of {0} contest(s):",
    nothing: "(nothing)", encrypt: "Encrypt my ballot",
    encrypting: "Encrypting and proving your ballot…",
    tracking: "Tracking code", tracking_help: "Write it down: it identifies your ballot on the board, and reveals nothing of your choices.",
    audit_warning: "Before you audit: the audited ballot is published with its choices in clear and with your credential's public key (spec/23 §23.7). Whoever can tie that key to you (the registrar, anyone who saw your letter) can read those choices. Audit with choices you do not mind showing, then make a new ballot with your real choices.",
    cast_or_audit: "Cast this ballot, or audit it to check that this device encrypted exactly your choices. An audited ballot is shown in clear, posted as spoiled, never counted; you then vote again.",
    cast: "Cast my ballot", audit: "Audit this ballot (it will not count)",
    posting: "Sending to the board…", waiting_checkpoint: "Waiting for the board's next signed checkpoint…",
    cast_done: "Your ballot is on the board, at entry {0}. A later ballot with the same credential replaces it.",
    receipt: "Your receipt", receipt_help: "It proves your encrypted ballot is in the board's signed log. It holds no secret and does not show how you voted.",
    download_receipt: "Download the receipt", check_receipt: "Check the receipt against the board now",
    receipt_ok: "Receipt checked: the ballot is at entry {0} of the signed checkpoint of {1} entries, and the board's newest checkpoint ({2} entries) still contains it.",
    receipt_file: "Check a receipt file", receipt_file_label: "Receipt file (.json)",
    anonymous_voters: "Anonymous voters",
    anonymous_detail: "registry snapshot no. {0}: {1} people, dealt into {2} buckets of {3} keys; each ballot is signed as one key of its bucket without saying which",
    step_wallet: "2. Your wallet",
    wallet_label: "Your wallet file (made by urne wallet new, enrolled with the registrar)",
    passphrase_label: "Its passphrase",
    wallet_help: "The file and the passphrase never leave this page: the wallet is opened here, and the ballot signed here.",
    wallet_none: "Choose your wallet file first.",
    wallet_opening: "Opening your wallet (this takes a few seconds)…",
    anonymous_info: "Anonymous election: your ballot is signed as one of the keys of your bucket of registry snapshot no. {1} ({2} people in all; buckets of {0} keys, padding nobody holds included), without saying which. The ballot shows it comes from someone in that bucket, not who; the registrar, who enrolled everyone, learns no more than that.",
    wallet_opened: "Wallet opened: your ballot will be signed among {0} keys, {1} of them registered people.",
    audit_warning_anonymous: "Before you audit: the audited ballot is published with its choices in clear and with your tag for this election, the same tag your cast ballot carries. The tag names nobody, but anyone who learns it is yours can read those choices. Audit with choices you do not mind showing, then make a new ballot with your real choices.",
    "code_wallet-passphrase": "Wrong passphrase (or the wallet file was altered).",
    "code_wallet-file": "This is not a urne wallet file.",
    "code_wallet-registry": "This wallet is not enrolled in the registry this election takes its voters from.",
    "code_wallet-not-listed": "This wallet's key is not in the election's snapshot of the registry: it cannot vote here.",
    "code_wallet-snapshot-old": "This election takes snapshot no. {0} of the registry, older than snapshot no. {1}, which your wallet has signed from already: a key its owner has since replaced may still stand in it. Do not vote here; tell the election authority.",
    module_trapped: "The booth's module stopped on an internal fault. It has been restarted: nothing was sent to the board. Make your ballot again.",
    module_trapped_loading: "The booth's module stopped on an internal fault while loading the election. It has been restarted and the election loaded again: nothing was sent to the board.",
    audit_interrupted: "Warning: your audit was interrupted. The booth did not finish opening your ballot and publishing the opening, so this ballot was not checked. An audit that does not finish is itself suspicious: a dishonest device could stop every audit this way to avoid ever being caught encrypting something other than your choices. Report it to the election authority (with the tracking code {0}, the time, and this device). Do not simply make a new ballot and cast it on this device: vote from another device you trust, or audit again here first.",
    module_restart_failed: "The booth's module could not be restarted after a fault ({0}). Nothing was sent to the board, and this page will not use the module again. Reload the page to start over; if this happens again, vote from another device and tell the election authority.",
    "code_credential-length": "A credential has {0} characters (not counting dashes); this one has {1}.",
    "code_credential-character": "Character {0} of the credential, \u201c{1}\u201d, cannot be in a credential (there is no 0, O, I or l).",
    "code_credential-checksum": "This credential has a typing mistake: check it against your letter.",
    code_selection: "Your choice in contest {0} does not follow its rule.",
    code_receipt: "This receipt does not hold.",
    "board_already-used": "The board already holds this (a replayed ballot, or one already cast or audited).",
    "board_wrong-phase": "The election is not in the phase for this: voting may be closed.",
    "board_not-authorized": "The board refuses this sender.",
    "board_invalid-body": "The board refuses this record.",
    "board_unknown-context": "The board does not know this election.",
    "board_rate-limited": "Too many requests from this address: wait a moment and try again.",
    "board_too-many-in-flight": "Too many requests from this address at once: wait a moment and try again.",
    board_overloaded: "The board is busy: nothing was stored; try again in a moment.",
    board_unavailable: "The board cannot take records just now: nothing was stored; try again in a moment.",
    "board_maybe-stored": "The board may have stored your ballot: look up its tracking code before you send it again.",
    board_storage: "The board has stopped accepting records: nothing was stored.",
    board_timeout: "The board did not answer in time: your ballot may have been stored; look up its tracking code.",
    "board_index-building": "The board is still reading its log: try again in a moment.",
    "board_not-found": "The board has no such thing.",
    "board_snapshot-too-large": "This election's register is too large for this board to send to the booth: vote with the urne command line instead.",
    stale_module: "This board serves a booth module of interface version {0}; this page needs version {1}. The board must rebuild it (crates/urne-booth/build.sh).",
    board_key_label: "The board's key (vkey), as the election authority published it (optional)",
    board_key_help: "Without it, the check uses the key this board gives about itself.",
    board_key_remember: "Remember this key on this device",
    key_pinned: "Checked under the board key you gave: {0}",
    key_from_board: "Checked under the key this board gives about itself: {0}. Compare it with the key the election authority published.",
    cosigned: "The newest checkpoint is cosigned by {0} of the {1} witnesses this board names: {2}.",
    no_witnesses: "This board names no witness: nobody independent has cosigned its checkpoints, so a board showing you a log of its own (a split view) would not be noticed here.",
    receipt_limits: "What this check does not prove: it runs in a page this board serves, against keys and witnesses this board names. A board that lies can lie here too. The independent check runs on your own computer with the key the authority published: urne receipt check RECEIPT.json --later --board-key-file BOARD.vkey",
    audit_done: "This ballot was audited and posted as spoiled (entry {0}). It will never count.",
    audit_shows: "What the ballot encrypts, with the nonces that prove it:",
    option: "Option", value: "Value", nonce: "Nonce",
    audit_check: "To check this audit independently, run on your own computer, with software this board did not give you:", audit_link: "See it on this board's public page (the same board that served this booth: its check is not independent)",
    download_audit: "Download the audited ballot", again: "Vote again",
    board_key: "Board key", entry: "entry", size: "Size", root: "Root",
    contexts: "Elections, petitions and sittings", name: "Name", type: "Type", counts: "Counts",
    latest_checkpoint: "Latest checkpoint", cosigned_by: "Signed by", witnesses: "Witnesses known to the board",
    none: "none", lookup: "Ballot lookup", lookup_label: "Tracking code", find: "Find",
    lookup_none: "No ballot with this tracking code on the board.",
    lookup_cast: "Cast ballot at entry {0} of election ",
    lookup_audit: "Audited (spoiled) ballot at entry {0} of election ",
    audit_passed: "This board's check of the audit passed: the ballot encrypts exactly these choices. For an independent check, run urne audit on your own computer.",
    board_fingerprint: "Election fingerprint (context hash), as this board claims it: compare it with the one the authority published",
    code_title: "The code this page runs",
    code_help: "SHA-256 of the WebAssembly module this page loaded (the exact bytes it runs) and of its scripts as this board serves them. Compare them with a build from source (spec/60 §60.6). A page can only report on itself: for an independent comparison, fetch the files with your own tools.",
    audit_failed: "AUDIT FAILED: {0}",
    election: "election", petition: "petition", sitting: "sitting",
    ballots: "ballots", audits: "audits", signatures: "signatures", withdrawn: "withdrawn",
    divisions: "divisions", votes: "votes", present: "present",
    credentials: "Voters on the list", ballots_cast: "Ballots cast (revotes included)", audits_posted: "Audited ballots",
    results: "Results", counted: "{0} ballots counted, {1} replaced by a revote; decrypted by trustees {2}.",
    no_result: "No result yet: results are published after the tally.",
    go_vote: "Go to the voting booth", all_contexts: "All contexts",
    threshold: "Threshold", deadline: "Deadline", scope: "Addressed to", reached: "Threshold reached", not_reached: "Threshold not reached",
    members: "Members", quorum: "Quorum", division: "Division", status: "Status", secret: "secret",
    measure: "Encrypted and proven in {0} ms.",
  },
  fr: {
    lang_switch: "English", skip: "Aller au contenu",
    booth_title: "urne — isoloir", board_title: "urne — tableau public",
    loading: "Chargement…", error: "Erreur", retry: "Réessayer",
    elections_open: "Scrutins ouverts au vote", no_open: "Aucun scrutin n'est ouvert au vote sur ce tableau.",
    vote_in: "Voter", step_election: "1. Le scrutin", step_credential: "2. Votre code de vote",
    step_choose: "3. Vos choix", step_review: "4. Vérification", step_ballot: "5. Votre bulletin chiffré",
    step_cast: "Bulletin déposé", step_audit: "Bulletin audité (non déposé)",
    fingerprint: "Empreinte du scrutin (hachage de contexte)",
    fingerprint_help: "Comparez-la avec l'empreinte publiée par l'organisateur du scrutin. Si elles diffèrent, ne votez pas ici.",
    phase_names: { setup: "préparation", ceremony: "cérémonie des clés", registration: "inscription", voting: "vote ouvert", closed: "clos", tallying: "dépouillement", published: "résultats publiés", draft: "brouillon", open: "ouverte", reached: "seuil atteint", "not-reached": "seuil non atteint", suspended: "suspendu", voided: "annulé", "in-session": "en séance", "in-force": "en vigueur" },
    wrong_election: "Le module a calculé les paramètres du scrutin {0}, et non de {1} : ce tableau sert sous cette adresse les paramètres d'un autre scrutin.",
    new_ballot: "Faire un nouveau bulletin",
    cast_uncertain: "Le tableau n'a pas dit s'il a enregistré votre bulletin déposé. Cette page a gardé l'enregistrement signé : elle peut le chercher sur le tableau et, s'il n'y est pas, renvoyer exactement le même (le tableau ne le prend jamais deux fois).",
    resend_cast: "Le chercher et le renvoyer",
    phase: "Phase", not_voting: "Ce scrutin est en phase « {0} » : les bulletins ne sont acceptés que pendant le vote.",
    credential_label: "Code de vote (de votre carte ou lettre de vote)",
    credential_help: "Il ne quitte jamais cette page : le bulletin est signé ici.",
    continue: "Continuer", back: "Modifier mes choix", review: "Vérifier mes choix",
    not_listed: "Ce code de vote n'est pas sur la liste des votants de ce scrutin (celui d'un autre scrutin ?).",
    single_rule: "Choisissez une option.", approval_rule: "Choisissez de {0} à {1} options.",
    approval_rule_exact: "Choisissez {0} options.",
    cumulative_rule: "Donnez de {0} à {1} points au total, au plus {2} par option.",
    blank_vote: "Vote blanc", points_for: "Points pour {0}",
    budget_rule: "Choisissez de {0} à {1} projets coûtant de {2} à {3} au total.", cost: "coût {0}",
    spent: "Vos projets coûtent {0} sur un budget de {1}.",
    err_over_budget: "Vos projets coûtent {0}, au-delà du budget de {1}.",
    err_under_spend: "Dépensez au moins {0} (vos projets coûtent {1}).",
    err_few_projects: "Choisissez au moins {0} projets (vous en avez choisi {1}).", err_many_projects: "Choisissez au plus {0} projets (vous en avez choisi {1}).",
    funded: "Financés : {0} ({1} sur un budget de {2}).",
    err_single: "Choisissez une option, ou le vote blanc.", err_single_noblank: "Choisissez une option.",
    err_few: "Choisissez au moins {0} options (vous en avez choisi {1}).", err_many: "Choisissez au plus {0} options (vous en avez choisi {1}).",
    err_points_one: "Au plus {0} points sur une option.",
    err_points_total: "Donnez entre {0} et {1} points au total (vous en avez donné {2}).",
    err_blank_and: "Un vote blanc ne sélectionne rien d'autre : décochez le vote blanc ou vos options.",
    err_summary: "Vos choix ne respectent pas les règles de {0} question(s) :",
    nothing: "(rien)", encrypt: "Chiffrer mon bulletin",
    encrypting: "Chiffrement et preuves de votre bulletin…",
    tracking: "Code de suivi", tracking_help: "Notez-le : il identifie votre bulletin sur le tableau, et ne révèle rien de vos choix.",
    audit_warning: "Avant d'auditer : le bulletin audité est publié avec ses choix en clair et la clé publique de votre identifiant (spec/23 §23.7). Qui peut relier cette clé à vous (le registraire, quiconque a vu votre courrier) peut lire ces choix. Auditez avec des choix que vous acceptez de montrer, puis faites un nouveau bulletin avec vos vrais choix.",
    cast_or_audit: "Déposez ce bulletin, ou auditez-le pour vérifier que cet appareil a chiffré exactement vos choix. Un bulletin audité est montré en clair, publié comme annulé, jamais compté ; vous votez ensuite à nouveau.",
    cast: "Déposer mon bulletin", audit: "Auditer ce bulletin (il ne comptera pas)",
    posting: "Envoi au tableau…", waiting_checkpoint: "Attente du prochain point de contrôle signé du tableau…",
    cast_done: "Votre bulletin est sur le tableau, à l'entrée {0}. Un bulletin ultérieur avec le même code de vote le remplace.",
    receipt: "Votre reçu", receipt_help: "Il prouve que votre bulletin chiffré est dans le journal signé du tableau. Il ne contient aucun secret et ne montre pas votre vote.",
    download_receipt: "Télécharger le reçu", check_receipt: "Vérifier le reçu auprès du tableau maintenant",
    receipt_ok: "Reçu vérifié : le bulletin est à l'entrée {0} du point de contrôle signé de {1} entrées, et le plus récent ({2} entrées) le contient toujours.",
    receipt_file: "Vérifier un fichier de reçu", receipt_file_label: "Fichier de reçu (.json)",
    anonymous_voters: "Votants anonymes",
    anonymous_detail: "instantané n° {0} du registre : {1} personnes, réparties en {2} groupes de {3} clés ; chaque bulletin est signé comme l'une des clés de son groupe, sans dire laquelle",
    step_wallet: "2. Votre portefeuille",
    wallet_label: "Votre fichier portefeuille (créé par urne wallet new, inscrit auprès du registraire)",
    passphrase_label: "Sa phrase secrète",
    wallet_help: "Le fichier et la phrase secrète ne quittent jamais cette page : le portefeuille est ouvert ici, et le bulletin signé ici.",
    wallet_none: "Choisissez d'abord votre fichier portefeuille.",
    wallet_opening: "Ouverture du portefeuille (quelques secondes)…",
    anonymous_info: "Scrutin anonyme : votre bulletin est signé comme l'une des clés de votre groupe de l'instantané n° {1} du registre ({2} personnes en tout ; groupes de {0} clés, bourrage que nul ne détient compris), sans dire laquelle. Le bulletin montre qu'il vient de quelqu'un de ce groupe, non de qui ; le registraire, qui a inscrit tout le monde, n'en apprend pas davantage.",
    wallet_opened: "Portefeuille ouvert : votre bulletin sera signé parmi {0} clés, dont {1} de personnes inscrites.",
    audit_warning_anonymous: "Avant d'auditer : le bulletin audité est publié avec ses choix en clair et avec votre marque pour ce scrutin, celle que porte aussi votre bulletin déposé. La marque ne nomme personne, mais qui apprend qu'elle est la vôtre peut lire ces choix. Auditez avec des choix que vous acceptez de montrer, puis faites un nouveau bulletin avec vos vrais choix.",
    "code_wallet-passphrase": "Phrase secrète erronée (ou fichier portefeuille modifié).",
    "code_wallet-file": "Ce n'est pas un fichier portefeuille urne.",
    "code_wallet-registry": "Ce portefeuille n'est pas inscrit au registre dont ce scrutin tire ses votants.",
    "code_wallet-not-listed": "La clé de ce portefeuille n'est pas dans l'instantané du registre de ce scrutin : il ne peut pas voter ici.",
    "code_wallet-snapshot-old": "Ce scrutin prend l'instantané n° {0} du registre, plus ancien que l'instantané n° {1}, dont votre portefeuille a déjà signé : une clé que son titulaire a remplacée depuis peut encore y figurer. Ne votez pas ici ; prévenez l'organisateur du scrutin.",
    module_trapped: "Le module de l'isoloir s'est arrêté sur une faute interne. Il a été relancé : rien n'a été envoyé au tableau. Refaites votre bulletin.",
    module_trapped_loading: "Le module de l'isoloir s'est arrêté sur une faute interne en chargeant l'élection. Il a été relancé et l'élection rechargée : rien n'a été envoyé au tableau.",
    audit_interrupted: "Attention : votre audit a été interrompu. L'isoloir n'a pas fini d'ouvrir votre bulletin et d'en publier l'ouverture : ce bulletin n'a pas été vérifié. Un audit qui n'aboutit pas est suspect en soi : un appareil malhonnête pourrait interrompre ainsi chaque audit pour ne jamais être pris à chiffrer autre chose que vos choix. Signalez-le à l'organisateur du scrutin (avec le code de suivi {0}, l'heure et cet appareil). Ne vous contentez pas de refaire un bulletin et de le déposer sur cet appareil : votez depuis un autre appareil de confiance, ou auditez d'abord à nouveau ici.",
    module_restart_failed: "Le module de l'isoloir n'a pas pu être relancé après une faute ({0}). Rien n'a été envoyé au tableau, et cette page n'utilisera plus ce module. Rechargez la page pour recommencer ; si cela se reproduit, votez depuis un autre appareil et prévenez l'organisateur du scrutin.",
    "code_credential-length": "Un code de vote a {0} caractères (sans compter les tirets) ; celui-ci en a {1}.",
    "code_credential-character": "Le caractère {0} du code, \u00ab {1} \u00bb, ne peut pas figurer dans un code de vote (il n'y a ni 0, ni O, ni I, ni l).",
    "code_credential-checksum": "Ce code de vote contient une faute de frappe : comparez-le à votre courrier.",
    code_selection: "Votre choix pour la question {0} ne respecte pas sa règle.",
    code_receipt: "Ce reçu ne se vérifie pas.",
    "board_already-used": "Le tableau contient déjà ceci (un bulletin rejoué, ou déjà déposé ou audité).",
    "board_wrong-phase": "Le scrutin n'est pas dans la phase voulue : le vote est peut-être clos.",
    "board_not-authorized": "Le tableau refuse cet expéditeur.",
    "board_invalid-body": "Le tableau refuse cet enregistrement.",
    "board_unknown-context": "Le tableau ne connaît pas ce scrutin.",
    "board_rate-limited": "Trop de requêtes depuis cette adresse : patientez un instant et réessayez.",
    "board_too-many-in-flight": "Trop de requêtes simultanées depuis cette adresse : patientez un instant et réessayez.",
    board_overloaded: "Le tableau est surchargé : rien n'a été enregistré ; réessayez dans un instant.",
    board_unavailable: "Le tableau ne peut pas recevoir d'enregistrement pour l'instant : rien n'a été enregistré ; réessayez dans un instant.",
    "board_maybe-stored": "Le tableau a peut-être enregistré votre bulletin : cherchez son code de suivi avant de le renvoyer.",
    board_storage: "Le tableau n'accepte plus d'enregistrements : rien n'a été enregistré.",
    board_timeout: "Le tableau n'a pas répondu à temps : votre bulletin a peut-être été enregistré ; cherchez son code de suivi.",
    "board_index-building": "Le tableau lit encore son journal : réessayez dans un instant.",
    "board_not-found": "Le tableau n'a rien de tel.",
    "board_snapshot-too-large": "Le registre de ce scrutin est trop grand pour que ce tableau l'envoie à l'isoloir : votez avec la ligne de commande urne.",
    stale_module: "Ce tableau sert un module d'isoloir d'interface version {0} ; cette page demande la version {1}. Le tableau doit le recompiler (crates/urne-booth/build.sh).",
    board_key_label: "La clé du tableau (vkey), telle que l'autorité de l'élection l'a publiée (facultatif)",
    board_key_help: "Sans elle, la vérification utilise la clé que ce tableau donne de lui-même.",
    board_key_remember: "Retenir cette clé sur cet appareil",
    key_pinned: "Vérifié avec la clé du tableau que vous avez donnée : {0}",
    key_from_board: "Vérifié avec la clé que ce tableau donne de lui-même : {0}. Comparez-la à la clé publiée par l'autorité de l'élection.",
    cosigned: "Le point de contrôle le plus récent est cosigné par {0} des {1} témoins que nomme ce tableau : {2}.",
    no_witnesses: "Ce tableau ne nomme aucun témoin : personne d'indépendant n'a cosigné ses points de contrôle ; un tableau qui vous montrerait un journal à part (vue divergente) ne serait pas repéré ici.",
    receipt_limits: "Ce que cette vérification ne prouve pas : elle tourne dans une page servie par ce tableau, avec les clés et les témoins qu'il nomme. Un tableau qui ment peut mentir ici aussi. La vérification indépendante se fait sur votre ordinateur avec la clé publiée par l'autorité : urne receipt check RECU.json --later --board-key-file TABLEAU.vkey",
    audit_done: "Ce bulletin a été audité et publié comme annulé (entrée {0}). Il ne comptera jamais.",
    audit_shows: "Ce que chiffre le bulletin, avec les aléas qui le prouvent :",
    option: "Option", value: "Valeur", nonce: "Aléa",
    audit_check: "Pour vérifier cet audit de façon indépendante, lancez sur votre propre ordinateur, avec un logiciel que ce tableau ne vous a pas fourni :", audit_link: "Le voir sur la page publique de ce tableau (le même tableau qui a servi cet isoloir : sa vérification n'est pas indépendante)",
    download_audit: "Télécharger le bulletin audité", again: "Voter à nouveau",
    board_key: "Clé du tableau", entry: "entrée", size: "Taille", root: "Racine",
    contexts: "Scrutins, pétitions et séances", name: "Nom", type: "Type", counts: "Décomptes",
    latest_checkpoint: "Dernier point de contrôle", cosigned_by: "Signé par", witnesses: "Témoins connus du tableau",
    none: "aucun", lookup: "Retrouver un bulletin", lookup_label: "Code de suivi", find: "Chercher",
    lookup_none: "Aucun bulletin avec ce code de suivi sur le tableau.",
    lookup_cast: "Bulletin déposé, entrée {0} du scrutin ",
    lookup_audit: "Bulletin audité (annulé), entrée {0} du scrutin ",
    audit_passed: "La vérification de l'audit par ce tableau a réussi : le bulletin chiffre exactement ces choix. Pour une vérification indépendante, lancez urne audit sur votre propre ordinateur.",
    board_fingerprint: "Empreinte du scrutin (hachage de contexte), selon ce tableau : comparez-la à celle que l'autorité a publiée",
    code_title: "Le code que cette page exécute",
    code_help: "SHA-256 du module WebAssembly chargé par cette page (les octets exacts qu'elle exécute) et de ses scripts tels que ce tableau les sert. Comparez-les à une compilation depuis les sources (spec/60 §60.6). Une page ne peut parler que d'elle-même : pour une comparaison indépendante, téléchargez les fichiers avec vos propres outils.",
    audit_failed: "ÉCHEC DE L'AUDIT : {0}",
    election: "scrutin", petition: "pétition", sitting: "séance",
    ballots: "bulletins", audits: "audits", signatures: "signatures", withdrawn: "retirées",
    divisions: "votes en séance", votes: "voix", present: "présents",
    credentials: "Votants inscrits", ballots_cast: "Bulletins déposés (revotes compris)", audits_posted: "Bulletins audités",
    results: "Résultats", counted: "{0} bulletins comptés, {1} remplacés par un nouveau vote ; déchiffré par les assesseurs {2}.",
    no_result: "Pas encore de résultat : ils sont publiés après le dépouillement.",
    go_vote: "Aller à l'isoloir", all_contexts: "Tous les contextes",
    threshold: "Seuil", deadline: "Échéance", scope: "Adressée à", reached: "Seuil atteint", not_reached: "Seuil non atteint",
    members: "Membres", quorum: "Quorum", division: "Vote", status: "État", secret: "secret",
    measure: "Chiffré et prouvé en {0} ms.",
  },
};

function pickLanguage() {
  const saved = localStorage.getItem("urne-lang");
  if (saved === "en" || saved === "fr") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

let LANG = pickLanguage();

// A phase or status from the board, in the page's language (the board's own word when
// there is no translation).
function phaseName(phase) {
  const names = TEXTS[LANG] && TEXTS[LANG].phase_names;
  return (names && names[phase]) || phase;
}

function t(key, ...args) {
  const text = (TEXTS[LANG] && TEXTS[LANG][key]) || TEXTS.en[key] || key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
}

// el("p", {class: "x"}, "text", child…): attributes, then text or nodes as children.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// The board's answers: JSON, or its error object {code, message, field} (spec/13 §13.3).
// The code is worded in the page's language when the page knows it; the board's own
// message (English, naming the record and field) follows as the detail.
class BoardError extends Error {
  constructor(status, body) {
    const detail = body && body.message ? body.message : `HTTP ${status}`;
    const known = body && body.code && TEXTS.en["board_" + body.code];
    super(known ? `${t("board_" + body.code)} (${detail})` : detail);
    this.status = status;
    this.code = body && body.code;
    this.field = body && body.field;
  }
}

async function api(path, options) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new BoardError(response.status, typeof body === "object" ? body : null);
  return body;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The module interface this page speaks (urne-booth's abi::ABI_VERSION, spec/60 §60.2).
const BOOTH_ABI = 4;

// The bytes of the module the page instantiated, for their digest (spec/60 §60.6).
let MODULE_BYTES = null;
// The module compiled once: a fresh instance replaces one that trapped (spec/60 §60.2).
let COMPILED = null;

// The test switch (spec/60 §60.2): only a page opened with `?test-hooks` in its address
// lets a test arm the module's trap drill, and it counts the instances made and keeps,
// for each instance retired, its memory's size and the index of its first non-zero
// byte after the wipe (-1: all zeros); never the memory itself. With or without it, no
// global holds the module's exports or memory: they live in the closure of `call`
// alone, and go with it.
const TEST_HOOKS = new URLSearchParams(location.search).has("test-hooks")
  ? (window.URNE_TEST = { instances: 0, retired: [] })
  : null;

// A trap leaves the instance's memory in an unknown state, so it is never called again;
// the page loads a fresh instance and the voter starts the ballot over. A trap is any
// exception out of a call once the page has started writing into the instance: a
// WebAssembly `RuntimeError` (the module aborted), a `RangeError` (its stack overflowed),
// or anything else thrown on the way (a `TypeError`, an answer that does not parse).
// Nothing was sent: records are posted by the page, after the module answered.
class ModuleTrapped extends Error {
  constructor(cause) {
    super(t("module_trapped"));
    this.trapped = true;
    this.detail = String(cause && cause.message ? cause.message : cause);
  }
}

async function sha256Hex(buffer) {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", buffer)));
}

// Fills the page's footer with the SHA-256 of the module it runs and of its scripts
// (spec/60 §60.6), so a voter or an observer can compare them with a build from source.
async function showCodeDigests() {
  const footer = document.getElementById("code");
  if (!footer) return;
  try {
    const wasm = MODULE_BYTES || await (await fetch("/booth/urne_booth.wasm")).arrayBuffer();
    const rows = [["/booth/urne_booth.wasm", await sha256Hex(wasm)]];
    for (const script of document.querySelectorAll("script[src]")) {
      const path = new URL(script.src).pathname;
      rows.push([path, await sha256Hex(await (await fetch(path)).arrayBuffer())]);
    }
    footer.replaceChildren(el("h2", {}, t("code_title")), el("p", { class: "muted" }, t("code_help")),
      el("table", { id: "code-digests" }, el("tbody", {}, rows.map(([path, digest]) =>
        el("tr", { "data-path": path }, el("td", {}, path), el("td", { class: "hash" }, digest))))));
  } catch (e) {
    footer.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
  }
}

// The WebAssembly module: write the JSON request into its memory, call, read the answer.
// Each call first has crypto.getRandomValues write 32 fresh bytes straight into the
// module's seed buffer (they never become a JavaScript string, which nothing could
// wipe); the module takes them if the operation needs randomness and zeroes the buffer.
async function loadModule() {
  if (!COMPILED) {
    const response = await fetch("/booth/urne_booth.wasm");
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new BoardError(response.status, body);
    }
    const bytes = await response.arrayBuffer();
    MODULE_BYTES = bytes;
    COMPILED = await WebAssembly.compile(bytes);
  }
  const instance = await WebAssembly.instantiate(COMPILED, {});
  let x = instance.exports;
  const abi = typeof x.booth_abi === "function" ? x.booth_abi() : 0;
  if (abi !== BOOTH_ABI) throw new Error(t("stale_module", abi, BOOTH_ABI));
  if (TEST_HOOKS) TEST_HOOKS.instances += 1;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let trapped = null;
  // Overwrites the instance's whole memory with zeros and lets it go: whatever it held
  // (a wallet's secret, a seed, a pending ballot's nonces or signatures) stays
  // reachable for as long as anything refers to the memory.
  const retire = (cause) => {
    trapped = cause;
    let stats = null;
    try {
      const memory = new Uint8Array(x.memory.buffer);
      memory.fill(0);
      if (TEST_HOOKS) stats = { byteLength: memory.byteLength, firstNonZero: memory.findIndex((b) => b !== 0) };
    } catch (e) {
      // A memory the page cannot even read is counted as not wiped.
      if (TEST_HOOKS) stats = { byteLength: 0, firstNonZero: 0, error: String(e) };
    }
    if (TEST_HOOKS) TEST_HOOKS.retired.push(stats);
    x = null;
  };
  return function call(op, request) {
    if (trapped) throw new ModuleTrapped(trapped);
    if (op === OP.trapDrill && !TEST_HOOKS) throw new Error("the trap drill runs only under the test switch (?test-hooks)");
    // The request is the page's own: a fault in encoding it touches no instance.
    const input = encoder.encode(JSON.stringify(request));
    let answer;
    try {
      const at = x.booth_input(input.length);
      new Uint8Array(x.memory.buffer, at, input.length).set(input);
      input.fill(0);
      crypto.getRandomValues(new Uint8Array(x.memory.buffer, x.booth_seed(), 32));
      const len = x.booth_call(op);
      answer = JSON.parse(decoder.decode(new Uint8Array(x.memory.buffer, x.booth_output(), len)));
      if (!answer || typeof answer !== "object" || !("ok" in answer || "error" in answer)) {
        throw new TypeError("the module's answer is neither ok nor error");
      }
    } catch (e) {
      // Whatever was thrown, the instance may be half-way through a call: a trap.
      input.fill(0);
      retire(e);
      throw new ModuleTrapped(e);
    }
    if (answer.error) {
      // A mistake the voter can mend comes with a code worded here; any other keeps the
      // module's own (English) message, which names the field. A credential's wording says
      // all; a selection's or a receipt's is followed by the module's detail (which rule,
      // which check).
      const { code, args, message, field } = answer.error;
      const worded = code && TEXTS.en["code_" + code] ? t("code_" + code, ...(args || [])) : null;
      const e = new Error(!worded ? message : code.startsWith("credential-") ? worded : `${worded} — ${message}`);
      e.field = field;
      e.code = code;
      e.detail = message;
      throw e;
    }
    return answer.ok;
  };
}

const OP = { load: 1, credential: 2, ballot: 3, cast: 4, audit: 5, receipt: 6, receiptCheck: 7, wallet: 8, trapDrill: 9 };

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: type || "application/json" }));
  return el("a", { href: url, download: name, class: "button" });
}

function languageButton(render) {
  return el("button", {
    type: "button", class: "lang", lang: LANG === "en" ? "fr" : "en",
    onclick: () => {
      LANG = LANG === "en" ? "fr" : "en";
      localStorage.setItem("urne-lang", LANG);
      document.documentElement.lang = LANG;
      render();
    },
  }, t("lang_switch"));
}

// The lines of a signed checkpoint note: origin, size, root, then the signatures.
function parseCheckpoint(text) {
  const [body, sigs] = text.split("\n\n");
  const lines = body.split("\n");
  const signers = (sigs || "").split("\n").filter((l) => l.startsWith("— ")).map((l) => l.slice(2).split(" ")[0]);
  return { origin: lines[0], size: Number(lines[1]), root: lines[2], signers };
}

// The skip link moves focus to the content without touching location.hash: both pages
// route on the hash (an election's id, a board view), and a "#main" there would read as
// a new route and lose the voter's progress.
document.addEventListener("click", (event) => {
  const skip = event.target instanceof Element ? event.target.closest("a.skip") : null;
  if (!skip) return;
  event.preventDefault();
  const content = document.getElementById("main");
  content.focus();
  content.scrollIntoView();
});

// ---- a receipt (spec/52), checked in the page against the board (spec/60 §60.4) ----

const PINNED_KEY = "urne-board-key";

// The board key the voter gave (typed now, or remembered on this device), or null.
function pinnedBoardKey() {
  const field = document.getElementById("board-key");
  const typed = field ? field.value.trim() : "";
  return typed || localStorage.getItem(PINNED_KEY) || null;
}

// The check of `urne receipt check --later` (spec/52 §52.3), with the quorum of spec/13:
// the newest checkpoint cosigned by every witness the board names, checked by the module
// against those witnesses' keys. What it cannot prove is said on the page (spec/60 §60.4).
async function checkReceipt(call, text, into) {
  try {
    const board = await api("/v1/board");
    const pinned = pinnedBoardKey();
    const vkey = pinned || board.vkey;
    const receipt = JSON.parse(text);
    const quorum = board.witnesses.length;
    const later = await api(quorum ? `/v1/checkpoint?quorum=${quorum}` : "/checkpoint");
    const size = parseCheckpoint(later).size;
    const consistency = await api(`/v1/proof/consistency?first=${parseCheckpoint(receipt.checkpoint).size}&second=${size}`);
    const checked = call(OP.receiptCheck, { receipt: text, vkey, later, proof: consistency.proof, witnesses: board.witnesses, quorum });
    into.replaceChildren(
      el("p", { class: "ok", role: "status", id: "receipt-ok" }, t("receipt_ok", checked.index, checked.size, checked.later_size)),
      el("p", { id: "receipt-key", class: pinned ? "" : "error" }, pinned ? t("key_pinned", checked.board_key) : t("key_from_board", checked.board_key)),
      el("p", { id: "receipt-witnesses", class: quorum ? "" : "error" },
        quorum ? t("cosigned", checked.cosigned_by.length, quorum, checked.cosigned_by.join(", ")) : t("no_witnesses")),
      el("p", { class: "muted", id: "receipt-limits" }, t("receipt_limits")));
  } catch (e) {
    into.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${e.message}`, e.field ? ` (${e.field})` : ""),
      el("p", { class: "muted" }, t("receipt_limits")));
  }
}

// The board key field (pinned only if the voter ticks "remember") and a receipt file
// loaded from the voter's device, any time after casting. `module` gives the
// WebAssembly module's call, or null when the page has not loaded it yet.
function receiptChecker(module) {
  const result = el("div", { id: "receipt-file-result" });
  const remembered = localStorage.getItem(PINNED_KEY);
  const key = el("input", { type: "text", id: "board-key", autocomplete: "off", spellcheck: "false", value: remembered || "", "aria-describedby": "board-key-help",
    oninput: () => { if (remember.checked) localStorage.setItem(PINNED_KEY, key.value.trim()); } });
  const remember = el("input", { type: "checkbox", id: "board-key-remember", checked: Boolean(remembered),
    onchange: () => {
      if (remember.checked && key.value.trim()) localStorage.setItem(PINNED_KEY, key.value.trim());
      else localStorage.removeItem(PINNED_KEY);
    } });
  const input = el("input", { type: "file", id: "receipt-file", accept: ".json,application/json",
    onchange: async () => {
      const file = input.files[0];
      if (!file) return;
      try {
        const call = module() || await loadModule();
        await checkReceipt(call, await file.text(), result);
      } catch (e) {
        result.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${e.message}`));
      }
    } });
  return el("section", { id: "receipt-check" }, el("h2", {}, t("receipt_file")),
    el("label", { for: "board-key" }, t("board_key_label")), key,
    el("p", { id: "board-key-help", class: "muted" }, t("board_key_help")),
    el("label", { for: "board-key-remember" }, remember, " ", t("board_key_remember")),
    el("label", { for: "receipt-file" }, t("receipt_file_label")), input, result);
}
