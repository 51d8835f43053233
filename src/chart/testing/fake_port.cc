// The fake server's ServerPort (see fake_server.h): one client connection. Each operation names
// the real handler it follows (src/server/<resource>.cc); the checks keep that handler's order.
#include "src/chart/testing/fake_state.h"

namespace cipherchart::chart::testing {
namespace {

class FakePort final : public ServerPort {
 public:
  explicit FakePort(std::shared_ptr<State> s, std::string token = {})
      : s_(std::move(s)), token_(std::move(token)) {}

  // ---- accounts and sessions (accounts.cc, auth.cc) ------------------------------------------
  Result<std::string> Register(const NewAccount& a) override {
    Call call(*s_, "Register", token_);
    if (auto f = call.Before()) return *f;
    return call.After(DoRegister(a));
  }

  Result<void> Login(const std::string& user_id, const envelope::Ed25519SigningKey& identity) override {
    Call call(*s_, "Login", token_);
    if (auto f = call.Before()) return *f;
    auto token = DoLogin(user_id, identity);
    if (!token) return std::unexpected(token.error());
    if (!call.reply_lost()) token_ = *token;
    return call.After(Result<void>{});
  }

  Result<OwnAccount> Me() override {
    Call call(*s_, "Me", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "account", token_};
    auto who = r.Route({}, /*any_state=*/true);
    if (!who) return std::unexpected(who.error());
    const AccountRow& a = **who;
    OwnAccount out;
    out.info = PublicInfo(a);
    // GET /v1/accounts/me has no "name" (accounts.cc AccountJson), unlike the lookup, and
    // shows the organisation of every role.
    out.info.name.clear();
    out.info.organisation = a.organisation;
    out.details_json = a.details.dump();
    out.decision_reason = a.decision_reason;
    out.decided_by = a.decided_by;
    out.created_at = a.created_at;
    return call.After(Result<OwnAccount>(std::move(out)));
  }

  Result<AccountInfo> Account(const std::string& user_id) override {
    Call call(*s_, "Account", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "account " + user_id, token_};
    auto who = r.Route({user_id});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidUserId(user_id)) return r.Refuse(400, "bad_path", "not a user id");
    const auto it = s_->accounts.find(user_id);
    if (it == s_->accounts.end()) return r.Refuse(404, "not_found", "no such user");
    return call.After(Result<AccountInfo>(PublicInfo(it->second)));
  }

  Result<std::unique_ptr<ServerPort>> Fork() override {
    Call call(*s_, "Fork", token_);
    if (auto f = call.Before()) return *f;
    return call.After(Result<std::unique_ptr<ServerPort>>(std::make_unique<FakePort>(s_, token_)));
  }

  // ---- registrations (accounts.cc) -----------------------------------------------------------
  Result<std::vector<Registration>> Registrations(const std::string& state) override {
    Call call(*s_, "Registrations", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "registrations", token_};
    if (BadQueryValue(state))
      return r.Refuse(400, "bad_path", "the query must be key=value pairs without escapes");
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    const auto wanted = ParseState(state);
    if (!wanted) return r.Refuse(400, "bad_request", "query 'state': expected pending, approved or rejected");
    Role visible = Role::kPractitioner;
    std::string org;
    if ((*who)->role == Role::kAuthorityAdmin) {
      org = (*who)->organisation;
    } else if ((*who)->role == Role::kServerAdmin) {
      visible = Role::kAuthorityAdmin;
    } else {
      return r.Refuse(403, "forbidden", "only authority and server admins review registrations");
    }
    std::vector<const AccountRow*> rows;
    for (const auto& [id, a] : s_->accounts) {
      if (a.role == visible && a.state == *wanted && (org.empty() || a.organisation == org))
        rows.push_back(&a);
    }
    std::ranges::sort(rows, [](const auto* x, const auto* y) {
      return std::tie(x->created_at, x->user_id) < std::tie(y->created_at, y->user_id);
    });
    std::vector<Registration> out;
    out.reserve(rows.size());
    for (const auto* a : rows) {
      out.push_back({a->user_id, std::string(RoleName(a->role)), std::string(StateName(a->state)),
                     a->organisation, a->details.dump(), a->identity_key, a->delivery_key, a->decision_reason,
                     a->decided_by, a->created_at});
    }
    return call.After(Result<std::vector<Registration>>(std::move(out)));
  }

  Result<void> Decide(const std::string& user_id, bool approve, const std::string& reason) override {
    Call call(*s_, "Decide", token_);
    if (auto f = call.Before()) return *f;
    return call.After(DoDecide(user_id, approve, reason));
  }

  // ---- the authority directory (directory.cc) ------------------------------------------------
  Result<std::vector<std::uint8_t>> Directory() override {
    Call call(*s_, "Directory", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "authority directory", token_};
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    std::vector<abe::DirectoryEntry> entries;
    for (const auto& [ns, row] : s_->directory) {
      auto parsed = abe::ParseDirectory(row.entry);
      if (!parsed || parsed->size() != 1) return r.Refuse(500, "internal", "internal error");
      entries.push_back(std::move(parsed->front()));
    }
    auto file = abe::EncodeDirectory(entries);
    if (!file) return r.Refuse(500, "internal", "internal error");
    return call.After(Result<std::vector<std::uint8_t>>(std::move(*file)));
  }

  Result<void> PublishDirectoryEntry(const std::string& ns, std::span<const std::uint8_t> entry) override {
    Call call(*s_, "PublishDirectoryEntry", token_);
    if (auto f = call.Before()) return *f;
    return call.After(DoPublish(ns, entry));
  }

  // ---- the key mailbox (keys.cc) -------------------------------------------------------------
  Result<std::string> PostPackage(const std::string& recipient_id,
                                  std::span<const std::uint8_t> bytes) override {
    Call call(*s_, "PostPackage", token_);
    if (auto f = call.Before()) return *f;
    return call.After(DoPostPackage(recipient_id, bytes));
  }

  Result<std::vector<PackageInfo>> Packages() override {
    Call call(*s_, "Packages", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "mailbox", token_};
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    std::vector<const PackageRow*> mine;
    for (const auto& [id, p] : s_->packages)
      if (p.recipient_id == (*who)->user_id) mine.push_back(&p);
    std::ranges::sort(mine, [](const auto* x, const auto* y) {
      return std::tie(x->created_at, x->package_id) < std::tie(y->created_at, y->package_id);
    });
    std::vector<PackageInfo> out;
    out.reserve(mine.size());
    for (const auto* p : mine) out.push_back({p->package_id, p->sender_id, p->bytes.size()});
    return call.After(Result<std::vector<PackageInfo>>(std::move(out)));
  }

  Result<std::vector<std::uint8_t>> Package(const std::string& package_id) override {
    Call call(*s_, "Package", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "key package " + package_id, token_};
    auto who = r.Route({package_id});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidPackageId(package_id)) return r.Refuse(400, "bad_path", "not a key package id");
    // Someone else's package is "not found" too, so ids cannot be probed; the attempt is logged.
    const auto it = s_->packages.find(package_id);
    if (it == s_->packages.end() || it->second.recipient_id != (*who)->user_id) {
      if (it != s_->packages.end()) s_->Audit((*who)->user_id, "key.fetch", "", package_id, "denied:404");
      return r.Refuse(404, "not_found", "no such key package for this account");
    }
    s_->Audit((*who)->user_id, "key.fetch", "", package_id, "ok");
    return call.After(Result<std::vector<std::uint8_t>>(it->second.bytes));
  }

  // ---- patients and records (patients.cc, records.cc) ----------------------------------------
  Result<std::string> CreatePatient(const std::string& enrolment_code_sha256) override {
    Call call(*s_, "CreatePatient", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "creating the patient", token_};
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    const auto hash = FixedFromHex<32>(enrolment_code_sha256);
    if (!hash) return r.Refuse(400, "bad_field", "field 'enrolment_code_sha256': expected 32 bytes as hex");
    if ((*who)->role != Role::kPractitioner) {
      s_->Audit((*who)->user_id, "patient.create", "", "", "denied:403");
      return r.Refuse(403, "forbidden", "only approved practitioners register patients");
    }
    auto id = protocol::NewPatientId();
    if (!id) return std::unexpected(id.error());
    Patient p;
    p.patient_id = *id;
    p.created_by = (*who)->user_id;
    p.code_hash = *hash;
    s_->patients[p.patient_id] = p;
    s_->Audit((*who)->user_id, "patient.create", p.patient_id, "", "ok");
    return call.After(Result<std::string>(p.patient_id));
  }

  Result<void> Enrol(const std::string& patient_id, const std::string& proof) override {
    Call call(*s_, "Enrol", token_, patient_id);
    if (auto f = call.Before()) return *f;
    return call.After(DoEnrol(patient_id, proof));
  }

  Result<std::vector<RecordInfo>> Records(const std::string& patient_id) override {
    Call call(*s_, "Records", token_, patient_id);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "patient " + patient_id, token_};
    auto who = r.Route({patient_id});
    if (!who) return std::unexpected(who.error());
    auto patient = s_->AuthorisePatient(r, patient_id, **who, Access::kRead, "record.list", "");
    if (!patient) return std::unexpected(patient.error());
    std::vector<RecordInfo> out;
    if (const auto p = s_->records.find(patient_id); p != s_->records.end()) {
      for (const auto& [rid, versions] : p->second)
        for (const auto& v : versions) out.push_back(v.info);
    }
    s_->Audit((*who)->user_id, "record.list", patient_id, "", "ok");
    return call.After(Result<std::vector<RecordInfo>>(std::move(out)));
  }

  Result<std::vector<std::uint8_t>> Fetch(const std::string& pid, const std::string& rid,
                                          std::uint64_t version) override {
    Call call(*s_, "Fetch", token_, pid, rid, version);
    if (auto f = call.Before()) return *f;
    return call.After(s_->FetchRecord(Req{*s_, "record " + rid, token_}, pid, rid, version));
  }

  Result<void> Put(const std::string& pid, const std::string& rid, std::uint64_t version,
                   const RecordMeta& meta, std::span<const std::uint8_t> bytes) override {
    Call call(*s_, "Put", token_, pid, rid, version);
    if (auto f = call.Before()) return *f;
    return call.After(s_->PutRecord(Req{*s_, "storing " + rid, token_}, pid, rid, version, meta,
                                    std::vector<std::uint8_t>(bytes.begin(), bytes.end())));
  }

  Result<void> Upload(const std::string& pid, const std::string& rid, std::uint64_t version,
                      const RecordMeta& meta, std::istream& in, std::uint64_t size) override {
    // The caller's stream is read before the server is locked (a fake holds bodies in memory).
    std::vector<std::uint8_t> bytes;
    const bool complete = ReadExactly(in, size, bytes);
    Call call(*s_, "Upload", token_, pid, rid, version);
    if (auto f = call.Before()) return *f;
    if (!complete)
      return Fail(ErrorCode::kInternal, "uploading " + rid + ": the input ended after " +
                                            std::to_string(bytes.size()) + " of " + std::to_string(size) +
                                            " bytes");
    return call.After(
        s_->PutRecord(Req{*s_, "uploading " + rid, token_}, pid, rid, version, meta, std::move(bytes)));
  }

  Result<void> Download(const std::string& pid, const std::string& rid, std::uint64_t version,
                        std::ostream& out) override {
    Call call(*s_, "Download", token_, pid, rid, version);
    if (auto f = call.Before()) return *f;
    auto bytes = s_->FetchRecord(Req{*s_, "downloading " + rid, token_}, pid, rid, version);
    const std::optional<Fault> fault = call.fault();
    call.Unlock();
    if (!bytes) return std::unexpected(bytes.error());
    std::size_t n = bytes->size();
    if (fault && fault->when == Fault::When::kAfter) n = std::min(n, fault->partial_bytes);
    out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(n));
    if (fault && fault->when == Fault::When::kAfter) return std::unexpected(fault->error);
    if (!out) return Fail(ErrorCode::kInternal, "downloading " + rid + ": the output stream failed");
    return {};
  }

  Result<void> Delete(const std::string& pid, const std::string& rid) override {
    Call call(*s_, "Delete", token_, pid, rid);
    if (auto f = call.Before()) return *f;
    return call.After(DoDelete(pid, rid));
  }

  // ---- the audit log (audit.cc, patients.cc) -------------------------------------------------
  Result<envelope::Ed25519PublicKey> AuditKey() override {
    Call call(*s_, "AuditKey", token_);
    if (auto f = call.Before()) return *f;
    return call.After(Result<envelope::Ed25519PublicKey>(s_->audit_key.public_key()));
  }

  Result<TreeHead> Head() override {
    Call call(*s_, "Head", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "signed tree head", token_};
    // The real server signs a head per group commit, at the time of the commit, and signs the
    // empty tree afresh on each request.
    const std::uint64_t size = s_->tree.size();
    const std::optional<server::SignedTreeHead>& cached = s_->head;
    server::SignedTreeHead head;
    if (cached.has_value() && cached->tree_size == size) {
      head = *cached;
    } else {
      auto root = s_->tree.Root();
      if (!root) return r.Refuse(500, "internal", "internal error");
      auto fresh =
          server::SignTreeHead(s_->audit_key, size, size == 0 ? s_->NowMs() : s_->last_append_ms, *root);
      if (!fresh) return r.Refuse(500, "internal", "internal error");
      head = *fresh;
      if (size > 0) s_->head = head;
    }
    return call.After(
        Result<TreeHead>(TreeHead{head.tree_size, head.timestamp_ms, head.root, head.signature}));
  }

  Result<std::vector<AuditRow>> PatientAudit(const std::string& pid) override {
    Call call(*s_, "PatientAudit", token_, pid);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "audit log", token_};
    auto who = r.Route({pid});
    if (!who) return std::unexpected(who.error());
    auto patient = s_->AuthorisePatient(r, pid, **who, Access::kOwner, "audit.read", "");
    if (!patient) return std::unexpected(patient.error());
    // The rows are read before this read's own entry is appended.
    std::vector<AuditRow> out;
    for (std::size_t i = 0; i < s_->audit_rows.size(); ++i) {
      const auto& row = s_->audit_rows[i];
      if (row.patient_id == pid) out.push_back({i, std::string(AsText(row.entry))});
    }
    s_->Audit((*who)->user_id, "audit.read", pid, "", "ok");
    return call.After(Result<std::vector<AuditRow>>(std::move(out)));
  }

  Result<std::vector<std::array<std::uint8_t, 32>>> Inclusion(std::uint64_t index,
                                                              std::uint64_t tree_size) override {
    Call call(*s_, "Inclusion", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "inclusion proof", token_};
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    if (index > kMaxPathCount || tree_size > kMaxPathCount)
      return r.Refuse(400, "bad_request", "query needs index=I&tree_size=N (non-negative integers)");
    if (tree_size > s_->tree.size() || index >= tree_size)
      return r.Refuse(400, "bad_request", "need index < tree_size <= the current log size");
    auto proof = s_->tree.InclusionProof(index, tree_size);
    if (!proof) return r.Refuse(400, "bad_request", "no proof for these sizes");
    return call.After(Result<std::vector<std::array<std::uint8_t, 32>>>(std::move(*proof)));
  }

  Result<std::vector<std::array<std::uint8_t, 32>>> Consistency(std::uint64_t first,
                                                                std::uint64_t second) override {
    Call call(*s_, "Consistency", token_);
    if (auto f = call.Before()) return *f;
    const Req r{*s_, "consistency proof", token_};
    auto who = r.Route({});
    if (!who) return std::unexpected(who.error());
    if (first > kMaxPathCount || second > kMaxPathCount)
      return r.Refuse(400, "bad_request", "query needs first=M&second=N (non-negative integers)");
    if (second > s_->tree.size() || first > second)
      return r.Refuse(400, "bad_request", "need first <= second <= the current log size");
    auto proof = s_->tree.ConsistencyProof(first, second);
    if (!proof) return r.Refuse(400, "bad_request", "no proof for these sizes");
    return call.After(Result<std::vector<std::array<std::uint8_t, 32>>>(std::move(*proof)));
  }

 private:
  static bool ReadExactly(std::istream& in, std::uint64_t size, std::vector<std::uint8_t>& out) {
    constexpr std::size_t kChunk = 256 * 1024;
    while (out.size() < size) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size - out.size(), kChunk));
      const std::size_t at = out.size();
      out.resize(at + want);
      in.read(reinterpret_cast<char*>(out.data() + at), static_cast<std::streamsize>(want));
      const auto got = static_cast<std::size_t>(in.gcount());
      out.resize(at + got);
      if (got == 0) return false;
    }
    return true;
  }

  // GET /v1/accounts/{user_id} (accounts.cc PublicAccountJson): a patient shows no
  // organisation or name; a server admin has the name "".
  static AccountInfo PublicInfo(const AccountRow& a) {
    AccountInfo i;
    i.user_id = a.user_id;
    i.role = RoleName(a.role);
    i.state = StateName(a.state);
    i.identity_key = a.identity_key;
    i.delivery_key = a.delivery_key;
    if (a.role == Role::kPatient) return i;
    i.organisation = a.organisation;
    if (a.role == Role::kPractitioner || a.role == Role::kAuthorityAdmin) {
      if (const auto it = a.details.find("name"); it != a.details.end() && it->is_string())
        i.name = it->get<std::string>();
    }
    return i;
  }

  // accounts.cc Register (ReadRegistration), after the adapter's own check of the details.
  Result<std::string> DoRegister(const NewAccount& a) {
    json details = json::object();
    if (!a.details_json.empty()) {
      json d = json::parse(a.details_json, nullptr, false);
      if (!d.is_object())
        return Fail(ErrorCode::kInvalidArgument, "registration: details are not a JSON object");
      details = std::move(d);
    }
    const Req r{*s_, "registration", token_};
    if (protocol::JsonNestingDepth(a.details_json) + 1 > kMaxJsonDepth)
      return r.Refuse(400, "bad_json", "the body nests arrays and objects deeper than 32 levels");
    AccountRow acct;
    const auto role = ParseRole(a.role);
    if (role == Role::kServerAdmin)
      return r.Refuse(403, "forbidden", "server admins are created with 'cipherchart server add-admin'");
    if (!role)
      return r.Refuse(400, "bad_field", "field 'role': expected patient, practitioner or authority-admin");
    acct.role = *role;
    acct.identity_key = a.identity_key;
    acct.delivery_key = a.delivery_key;
    // The adapter sends no organisation when it is empty.
    if (a.organisation.empty()) {
      if (acct.role != Role::kPatient)
        return r.Refuse(400, "missing_field", "field 'organisation' is required");
    } else {
      if (a.organisation.size() > 128)
        return r.Refuse(400, "bad_field", "field 'organisation': longer than 128 bytes");
      if (!IsPrintableText(a.organisation))
        return r.Refuse(400, "bad_field", "field 'organisation': must be non-empty printable text");
      acct.organisation = a.organisation;
    }
    if (acct.role == Role::kPractitioner) {
      for (const char* k : {"name", "licence", "practice_start", "practice_end"}) {
        const auto it = details.find(k);
        if (it == details.end())
          return r.Refuse(400, "missing_field",
                          std::string("field 'details.") + k + "' is required for practitioners");
        if (!it->is_string() || it->get_ref<const std::string&>().empty())
          return r.Refuse(400, "bad_field",
                          std::string("field 'details.") + k + "': expected a non-empty string");
      }
    }
    if (details.dump().size() > kMaxDetails)
      return r.Refuse(400, "bad_field", "field 'details': over 16 KiB");
    acct.details = std::move(details);
    acct.state = acct.role == Role::kPatient ? Approval::kApproved : Approval::kPending;
    acct.created_at = s_->NowMs() / 1000;
    auto id = protocol::NewUserId();
    if (!id) return std::unexpected(id.error());
    acct.user_id = *id;
    const bool taken = std::ranges::any_of(
        s_->accounts, [&](const auto& kv) { return kv.second.identity_key == acct.identity_key; });
    if (taken) {
      s_->Audit(acct.user_id, "register", "", std::string(RoleName(acct.role)), "failed");
      return r.Refuse(409, "conflict", "this identity key is already registered");
    }
    s_->Audit(acct.user_id, "register", "", std::string(RoleName(acct.role)), "ok");
    s_->accounts[acct.user_id] = std::move(acct);
    return *id;
  }

  // auth.cc NewChallenge and Login; the client's signature in between, as the adapter signs.
  Result<std::string> DoLogin(const std::string& user_id, const envelope::Ed25519SigningKey& identity) {
    const Req r{*s_, "login", token_};
    if (user_id.size() > 64 || !protocol::IsValidUserId(user_id))
      return r.Refuse(400, "bad_field", "field 'user_id': not a user id");
    std::array<std::uint8_t, 32> nonce{};
    if (auto ok = FillRandom(nonce); !ok) return std::unexpected(ok.error());
    s_->challenges[nonce] = user_id;  // unknown users get a challenge too

    auto signature = identity.Sign(protocol::LoginMessage(nonce, user_id));
    if (!signature) return std::unexpected(signature.error());

    const auto challenge = s_->challenges.find(nonce);
    if (challenge == s_->challenges.end() || challenge->second != user_id) {
      s_->Audit(user_id, "login", "", "", "denied:401");
      return r.Refuse(401, "bad_challenge", "the challenge is unknown, already used, or for another user");
    }
    s_->challenges.erase(challenge);  // single use
    const auto account = s_->accounts.find(user_id);
    const bool ok = account != s_->accounts.end() &&
                    envelope::Ed25519Verify(account->second.identity_key,
                                            protocol::LoginMessage(nonce, user_id), *signature)
                        .has_value();
    if (!ok) {
      s_->Audit(user_id, "login", "", "", "denied:401");
      return r.Refuse(401, "bad_signature", "the signature does not verify under the account's identity key");
    }
    auto token = RandomToken();
    if (!token) return std::unexpected(token.error());
    s_->sessions[*token] = user_id;
    s_->Audit(user_id, "login", "", "", "ok");
    return *token;
  }

  // accounts.cc Decide.
  Result<void> DoDecide(const std::string& user_id, bool approve, const std::string& reason) {
    const Req r{*s_, approve ? "approve" : "reject", token_};
    auto who = r.Route({user_id});
    if (!who) return std::unexpected(who.error());
    // The adapter sends a reason only when it is not empty; a rejection needs one.
    if (reason.empty() && !approve) return r.Refuse(400, "missing_field", "field 'reason' is required");
    if (reason.size() > 1024) return r.Refuse(400, "bad_field", "field 'reason': longer than 1024 bytes");
    if (!IsPrintableText(reason))
      return r.Refuse(400, "bad_field", "field 'reason': control characters are not allowed");
    if (!protocol::IsValidUserId(user_id)) return r.Refuse(400, "bad_path", "not a user id");
    const auto it = s_->accounts.find(user_id);
    if (it == s_->accounts.end()) return r.Refuse(404, "not_found", "no such registration");
    AccountRow& t = it->second;
    const char* action = approve ? "approve" : "reject";
    const bool allowed = ((*who)->role == Role::kAuthorityAdmin && t.role == Role::kPractitioner &&
                          t.organisation == (*who)->organisation) ||
                         ((*who)->role == Role::kServerAdmin && t.role == Role::kAuthorityAdmin);
    if (!allowed) {
      s_->Audit((*who)->user_id, action, "", t.user_id, "denied:403");
      return r.Refuse(
          403, "forbidden",
          "practitioners are decided by their organisation's authority admins, authority admins by "
          "server admins");
    }
    if (t.state != Approval::kPending) {
      s_->Audit((*who)->user_id, action, "", t.user_id, "failed");
      return r.Refuse(409, "conflict", "the registration is not pending");
    }
    t.state = approve ? Approval::kApproved : Approval::kRejected;
    t.decision_reason = reason;
    t.decided_by = (*who)->user_id;
    s_->Audit((*who)->user_id, action, "", t.user_id, "ok");
    return {};
  }

  // directory.cc PublishDirectoryEntry.
  Result<void> DoPublish(const std::string& ns, std::span<const std::uint8_t> bytes) {
    const Req r{*s_, "publishing " + ns, token_};
    auto who = r.Route({ns});
    if (!who) return std::unexpected(who.error());
    if (!IsPrintableText(ns)) return r.Refuse(400, "bad_path", "not an authority namespace");
    if (auto ok = abe::ValidateNamespace(ns); !ok) return r.Refuse(400, "bad_path", ok.error().message());
    if ((*who)->role != Role::kAuthorityAdmin) {
      s_->Audit((*who)->user_id, "directory.publish", "", ns, "denied:403");
      return r.Refuse(403, "forbidden", "only approved authority admins publish directory entries");
    }
    if (bytes.size() > kMaxDirectoryEntryBody)
      return r.Refuse(413, "too_large", "the body is over this route's limit of 1048576 bytes");
    auto parsed = abe::ParseDirectory(bytes);
    if (!parsed)
      return r.Refuse(400, "bad_directory_entry",
                      "the body is not an authority directory file (CCMD): " + parsed.error().message());
    if (parsed->size() != 1)
      return r.Refuse(400, "bad_directory_entry",
                      "the directory file holds " + std::to_string(parsed->size()) +
                          " entries; a PUT publishes "
                          "exactly one");
    const abe::DirectoryEntry& e = parsed->front();
    if (e.chain.empty() || e.chain.back().authority_namespace != ns)
      return r.Refuse(400, "bad_directory_entry",
                      "the entry's certificate chain is not for the path's namespace");
    if (e.statement.public_key.authority_namespace != ns)
      return r.Refuse(400, "bad_directory_entry",
                      "the entry's key statement is not for the path's namespace");
    const auto stored = s_->directory.find(ns);
    if (stored != s_->directory.end() && stored->second.organisation != (*who)->organisation) {
      s_->Audit((*who)->user_id, "directory.publish", "", ns, "denied:403");
      return r.Refuse(403, "namespace_owned",
                      "namespace \"" + ns + "\" is published by another organisation's authority admins");
    }
    auto canonical = abe::EncodeDirectory(*parsed);
    if (!canonical) return r.Refuse(400, "bad_directory_entry", canonical.error().message());
    if (stored == s_->directory.end() &&
        static_cast<std::int64_t>(s_->directory.size()) >= server::kMaxDirectoryNamespaces) {
      s_->Audit((*who)->user_id, "directory.publish", "", ns, "failed");
      return r.Refuse(409, "directory_full", "the directory already holds the maximum of 4096 namespaces");
    }
    DirectoryRow& row = s_->directory[ns];
    if (stored == s_->directory.end()) row.organisation = (*who)->organisation;  // the owner never changes
    row.entry = std::move(*canonical);
    row.publisher_id = (*who)->user_id;
    s_->Audit((*who)->user_id, "directory.publish", "", ns, "ok");
    return {};
  }

  // keys.cc PostKeyPackage.
  Result<std::string> DoPostPackage(const std::string& recipient_id, std::span<const std::uint8_t> bytes) {
    const Req r{*s_, "posting a key package to " + recipient_id, token_};
    auto who = r.Route({recipient_id});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidUserId(recipient_id)) return r.Refuse(400, "bad_path", "not a user id");
    const auto it = s_->accounts.find(recipient_id);
    if (it == s_->accounts.end()) return r.Refuse(404, "not_found", "no such user");
    const AccountRow& to = it->second;
    const bool sender_ok = (*who)->role == Role::kAuthorityAdmin ||
                           ((*who)->role == Role::kPatient && to.role == Role::kPatient);
    if (!sender_ok) {
      s_->Audit((*who)->user_id, "key.post", "", to.user_id, "denied:403");
      return r.Refuse(403, "forbidden",
                      "key packages come from authority admins, or from a patient to a patient account");
    }
    if (to.state != Approval::kApproved || to.role == Role::kServerAdmin) {
      s_->Audit((*who)->user_id, "key.post", "", to.user_id, "denied:403");
      return r.Refuse(403, "forbidden", "the recipient is not an approved account that can hold keys");
    }
    if (bytes.size() > kMaxKeyPackage)
      return r.Refuse(413, "too_large", "the body is over this route's limit");
    auto id = protocol::NewPackageId();
    if (!id) return std::unexpected(id.error());
    PackageRow p;
    p.package_id = *id;
    p.recipient_id = to.user_id;
    p.sender_id = (*who)->user_id;
    p.created_at = s_->NowMs();
    p.bytes.assign(bytes.begin(), bytes.end());
    s_->packages[*id] = std::move(p);
    s_->Audit((*who)->user_id, "key.post", "", to.user_id + "/" + *id, "ok");
    return *id;
  }

  // patients.cc Enrol.
  Result<void> DoEnrol(const std::string& patient_id, const std::string& proof) {
    const Req r{*s_, "enrolment", token_};
    auto who = r.Route({patient_id});
    if (!who) return std::unexpected(who.error());
    if (proof.size() > 256) return r.Refuse(400, "bad_field", "field 'code': longer than 256 bytes");
    if (!protocol::IsValidPatientId(patient_id))
      return r.Refuse(400, "bad_path", "not a patient id (check character or format)");
    if ((*who)->role != Role::kPatient) {
      s_->Audit((*who)->user_id, "patient.enrol", patient_id, "", "denied:403");
      return r.Refuse(403, "forbidden", "only patient accounts enrol");
    }
    const auto it = s_->patients.find(patient_id);
    if (it == s_->patients.end()) return r.Refuse(404, "not_found", "no such patient");
    Patient& p = it->second;
    if (p.enrolment_used) return r.Refuse(409, "conflict", "this patient's enrolment code was already used");
    auto hash = envelope::Sha256Of(AsBytes(proof));
    if (!hash) return std::unexpected(hash.error());
    if (*hash != p.code_hash) {
      s_->Audit((*who)->user_id, "patient.enrol", patient_id, "", "denied:403");
      return r.Refuse(403, "forbidden", "the enrolment code does not match (or was just used)");
    }
    p.owner_user_id = (*who)->user_id;
    p.enrolment_used = true;
    s_->Audit((*who)->user_id, "patient.enrol", patient_id, "", "ok");
    return {};
  }

  // records.cc DeleteRecord: a tombstone as version latest + 1, by the owner only.
  Result<void> DoDelete(const std::string& pid, const std::string& rid) {
    const Req r{*s_, "deleting " + rid, token_};
    auto who = r.Route({pid, rid});
    if (!who) return std::unexpected(who.error());
    if (!protocol::IsValidRecordId(rid))
      return r.Refuse(400, "bad_path", "record ids are 1..64 of [A-Za-z0-9._-]");
    auto patient = s_->AuthorisePatient(r, pid, **who, Access::kOwner, "record.delete", rid);
    if (!patient) return std::unexpected(patient.error());
    Version* latest = s_->FindVersion(pid, rid, 0);
    if (latest == nullptr || latest->info.tombstone)
      return r.Refuse(404, "not_found", "no such record (or already deleted)");
    Version t;
    t.info.record_id = rid;
    t.info.version = latest->info.version + 1;
    t.info.section = latest->info.section;
    t.info.author_id = (*who)->user_id;
    t.info.created_at_ms = s_->NowMs();
    t.info.tombstone = true;
    const std::string target = rid + "@" + std::to_string(t.info.version);
    s_->records[pid][rid].push_back(std::move(t));
    s_->Audit((*who)->user_id, "record.delete", pid, target, "ok");
    return {};
  }

  std::shared_ptr<State> s_;
  std::string token_;
};

}  // namespace

std::unique_ptr<ServerPort> NewPort(std::shared_ptr<FakeServer::State> state, std::string token) {
  return std::make_unique<FakePort>(std::move(state), std::move(token));
}

}  // namespace cipherchart::chart::testing
