// The HTTP adapter: ServerPort over the /v1 API (docs/api.md), with the protocol module's
// routes, headers and field names. Nothing above this file builds a path or reads a status.
#include <nlohmann/json.hpp>

#include "cipherchart/chart/server_port.h"
#include "cipherchart/client/http_client.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/common/hex.h"
#include "cipherchart/protocol/api.h"

namespace cipherchart::chart {
namespace {

using nlohmann::json;
using protocol::Path;
using protocol::PathWithQuery;
namespace route = protocol::route;
namespace field = protocol::field;
namespace header = protocol::header;

struct Reply {
  int status = 0;
  json body;  // parsed JSON replies; null otherwise
  std::string raw;
  bool ok() const { return status >= 200 && status < 300; }
};

// The server's refusal as an Error: the code says what kind, the message quotes the server.
Error ServerError(std::string_view what, const Reply& r) {
  ErrorCode code = ErrorCode::kInvalidArgument;
  switch (r.status) {
    case 401:
    case 403:
      code = ErrorCode::kPermissionDenied;
      break;
    case 404:
      code = ErrorCode::kNotFound;
      break;
    case 409:
      code = ErrorCode::kConflict;
      break;
    default:
      if (r.status >= 500) code = ErrorCode::kInternal;
      break;
  }
  // append() rather than operator+: GCC 12 warns (-Wrestrict, falsely) on inlined string sums.
  std::string m(what);
  m.append(": the server said ").append(std::to_string(r.status));
  if (r.body.is_object() && r.body.contains(field::kError) && r.body[field::kError].is_object()) {
    const json& e = r.body[field::kError];
    m.append(" ").append(e.value(field::kCode, std::string())).append(": ");
    m.append(e.value(field::kMessage, std::string()));
  }
  return Error(code, std::move(m));
}

// Every id that goes into a path must be one clean segment: a '/', '?', '#', '%', "." or ".."
// (from a command line or a server reply) would otherwise send the request to another route.
Result<void> CleanSegments(std::string_view what, std::initializer_list<std::string_view> args) {
  for (std::string_view a : args) {
    bool clean = !a.empty() && a != "." && a != ".." && a.size() <= 256;
    for (const unsigned char c : a)
      clean = clean && c > 0x20 && c < 0x7f && c != '/' && c != '?' && c != '#' && c != '%' && c != '\\';
    if (!clean)
      return Fail(ErrorCode::kInvalidArgument, std::string(what) + ": not an id: '" + std::string(a) + "'");
  }
  return {};
}

Error Malformed(std::string_view what, std::string_view detail) {
  return Error(ErrorCode::kInvalidEncoding,
               std::string(what) + ": malformed reply (" + std::string(detail) + ")");
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> HexOf(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return std::nullopt;
  return FixedFromHex<N>(j[name].get<std::string>());
}

std::string Str(const json& j, const char* name) {
  if (!j.is_object()) return {};
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class T>
T Num(const json& j, const char* name) {
  if (!j.is_object()) return T{};
  const auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<T>() : T{};
}

Result<AccountInfo> ParseAccount(std::string_view what, const json& j) {
  AccountInfo a;
  a.user_id = Str(j, field::kUserId);
  a.role = Str(j, field::kRole);
  a.state = Str(j, field::kState);
  a.organisation = Str(j, field::kOrganisation);
  a.name = Str(j, field::kName);
  auto ik = HexOf<32>(j, field::kIdentityKey);
  auto dk = HexOf<32>(j, field::kDeliveryKey);
  if (!ik || !dk) return std::unexpected(Malformed(what, "keys"));
  a.identity_key = *ik;
  a.delivery_key = *dk;
  return a;
}

Result<std::vector<std::array<std::uint8_t, 32>>> HashList(std::string_view what, const json& j,
                                                           const char* name) {
  std::vector<std::array<std::uint8_t, 32>> out;
  if (!j.is_object() || !j.contains(name) || !j[name].is_array())
    return std::unexpected(Malformed(what, name));
  for (const auto& h : j[name]) {
    auto b = h.is_string() ? FixedFromHex<32>(h.get<std::string>()) : std::nullopt;
    if (!b) return std::unexpected(Malformed(what, name));
    out.push_back(*b);
  }
  return out;
}

class HttpServerPort final : public ServerPort {
 public:
  HttpServerPort(ServerAddress address, client::ClientOptions options,
                 std::unique_ptr<client::HttpClient> http)
      : address_(std::move(address)), options_(std::move(options)), http_(std::move(http)) {}

  Result<std::string> Register(const NewAccount& a) override {
    json body = {{field::kRole, a.role},
                 {field::kIdentityKey, ToHex(a.identity_key)},
                 {field::kDeliveryKey, ToHex(a.delivery_key)}};
    if (!a.organisation.empty()) body[field::kOrganisation] = a.organisation;
    if (!a.details_json.empty()) {
      json d = json::parse(a.details_json, nullptr, false);
      if (!d.is_object())
        return Fail(ErrorCode::kInvalidArgument, "registration: details are not a JSON object");
      if (!d.empty()) body[field::kDetails] = d;
    }
    auto r = Call("registration", "POST", Path(route::kAccounts), body);
    if (!r) return std::unexpected(r.error());
    std::string id = Str(r->body, field::kUserId);
    if (id.empty()) return std::unexpected(Malformed("registration", field::kUserId));
    return id;
  }

  Result<void> Login(const std::string& user_id, const envelope::Ed25519SigningKey& identity) override {
    auto c = Call("login", "POST", Path(route::kAuthChallenge), {{field::kUserId, user_id}});
    if (!c) return std::unexpected(c.error());
    const std::string challenge = Str(c->body, field::kChallenge);
    auto nonce = FixedFromHex<32>(challenge);
    if (!nonce) return std::unexpected(Malformed("login", "challenge"));
    auto sig = identity.Sign(protocol::LoginMessage(*nonce, user_id));
    if (!sig) return std::unexpected(sig.error());
    auto l =
        Call("login", "POST", Path(route::kAuthLogin),
             {{field::kUserId, user_id}, {field::kChallenge, challenge}, {field::kSignature, ToHex(*sig)}});
    if (!l) return std::unexpected(l.error());
    token_ = Str(l->body, field::kToken);
    if (token_.empty()) return std::unexpected(Malformed("login", "token"));
    return {};
  }

  Result<OwnAccount> Me() override {
    auto r = Call("account", "GET", Path(route::kAccountMe));
    if (!r) return std::unexpected(r.error());
    OwnAccount out;
    auto info = ParseAccount("account", r->body);
    if (!info) return std::unexpected(info.error());
    out.info = std::move(*info);
    if (r->body.contains(field::kDetails)) out.details_json = r->body[field::kDetails].dump();
    out.decision_reason = Str(r->body, "decision_reason");
    out.decided_by = Str(r->body, "decided_by");
    out.created_at = Num<std::int64_t>(r->body, field::kCreatedAt);
    return out;
  }

  Result<AccountInfo> Account(const std::string& user_id) override {
    if (auto ok = CleanSegments("account", {user_id}); !ok) return std::unexpected(ok.error());
    const std::string what = "account " + user_id;
    auto r = Call(what, "GET", Path(route::kAccount, {user_id}));
    if (!r) return std::unexpected(r.error());
    auto a = ParseAccount(what, r->body);
    if (a && a->user_id != user_id) return std::unexpected(Malformed(what, "another user id"));
    return a;
  }

  Result<std::unique_ptr<ServerPort>> Fork() override {
    auto http = client::HttpClient::Connect(options_);
    if (!http) return std::unexpected(http.error());
    auto out = std::make_unique<HttpServerPort>(address_, options_, std::move(*http));
    out->token_ = token_;
    return std::unique_ptr<ServerPort>(std::move(out));
  }

  Result<std::vector<Registration>> Registrations(const std::string& state) override {
    auto r = Call("registrations", "GET", PathWithQuery(route::kRegistrations, {}, {{field::kState, state}}));
    if (!r) return std::unexpected(r.error());
    std::vector<Registration> out;
    if (!r->body.contains("registrations") || !r->body["registrations"].is_array())
      return std::unexpected(Malformed("registrations", "list"));
    for (const auto& j : r->body["registrations"]) {
      Registration g;
      g.user_id = Str(j, field::kUserId);
      g.role = Str(j, field::kRole);
      g.state = Str(j, field::kState);
      g.organisation = Str(j, field::kOrganisation);
      if (j.contains(field::kDetails)) g.details_json = j[field::kDetails].dump();
      auto ik = HexOf<32>(j, field::kIdentityKey);
      auto dk = HexOf<32>(j, field::kDeliveryKey);
      if (!ik || !dk) return std::unexpected(Malformed("registrations", "keys"));
      g.identity_key = *ik;
      g.delivery_key = *dk;
      g.decision_reason = Str(j, "decision_reason");
      g.decided_by = Str(j, "decided_by");
      g.created_at = Num<std::int64_t>(j, field::kCreatedAt);
      out.push_back(std::move(g));
    }
    return out;
  }

  Result<void> Decide(const std::string& user_id, bool approve, const std::string& reason) override {
    if (auto ok = CleanSegments("decision", {user_id}); !ok) return std::unexpected(ok.error());
    json body = json::object();
    if (!reason.empty()) body["reason"] = reason;
    auto r = Call(approve ? "approve" : "reject", "POST",
                  Path(approve ? route::kRegistrationApprove : route::kRegistrationReject, {user_id}), body);
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<std::vector<std::uint8_t>> Directory() override {
    auto r = Call("authority directory", "GET", Path(route::kDirectory));
    if (!r) return std::unexpected(r.error());
    return std::vector<std::uint8_t>(r->raw.begin(), r->raw.end());
  }

  Result<void> PublishDirectoryEntry(const std::string& ns, std::span<const std::uint8_t> entry) override {
    if (auto ok = CleanSegments("publishing", {ns}); !ok) return std::unexpected(ok.error());
    auto r = Bytes("publishing " + ns, "PUT", Path(route::kDirectoryEntry, {ns}), entry, {});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<std::string> PostPackage(const std::string& recipient_id,
                                  std::span<const std::uint8_t> bytes) override {
    if (auto ok = CleanSegments("key package", {recipient_id}); !ok) return std::unexpected(ok.error());
    auto r = Bytes("posting a key package to " + recipient_id, "POST", Path(route::kUserKeys, {recipient_id}),
                   bytes, {});
    if (!r) return std::unexpected(r.error());
    return Str(r->body, field::kPackageId);
  }

  Result<std::vector<PackageInfo>> Packages() override {
    auto r = Call("mailbox", "GET", Path(route::kKeys));
    if (!r) return std::unexpected(r.error());
    if (!r->body.contains(field::kPackages) || !r->body[field::kPackages].is_array())
      return std::unexpected(Malformed("mailbox", "packages"));
    std::vector<PackageInfo> out;
    for (const auto& p : r->body[field::kPackages])
      out.push_back({Str(p, field::kPackageId), Str(p, field::kSenderId), Num<std::uint64_t>(p, "size")});
    return out;
  }

  Result<std::vector<std::uint8_t>> Package(const std::string& package_id) override {
    if (auto ok = CleanSegments("key package", {package_id}); !ok) return std::unexpected(ok.error());
    auto r = Call("key package " + package_id, "GET", Path(route::kKey, {package_id}));
    if (!r) return std::unexpected(r.error());
    return std::vector<std::uint8_t>(r->raw.begin(), r->raw.end());
  }

  Result<std::string> CreatePatient(const std::string& enrolment_code_sha256) override {
    auto r = Call("creating the patient", "POST", Path(route::kPatients),
                  {{field::kEnrolmentCodeSha256, enrolment_code_sha256}});
    if (!r) return std::unexpected(r.error());
    return Str(r->body, field::kPatientId);
  }

  Result<void> Enrol(const std::string& patient_id, const std::string& proof) override {
    if (auto ok = CleanSegments("enrolment", {patient_id}); !ok) return std::unexpected(ok.error());
    auto r = Call("enrolment", "POST", Path(route::kPatientEnrol, {patient_id}), {{field::kCode, proof}});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<std::vector<RecordInfo>> Records(const std::string& patient_id) override {
    if (auto ok = CleanSegments("patient", {patient_id}); !ok) return std::unexpected(ok.error());
    const std::string what = "patient " + patient_id;
    auto r = Call(what, "GET", Path(route::kRecords, {patient_id}));
    if (!r) return std::unexpected(r.error());
    if (!r->body.contains(field::kRecords) || !r->body[field::kRecords].is_array())
      return std::unexpected(Malformed(what, "records"));
    std::vector<RecordInfo> out;
    for (const auto& j : r->body[field::kRecords]) {
      RecordInfo i;
      i.record_id = Str(j, field::kRecordId);
      i.version = Num<std::uint64_t>(j, field::kVersion);
      i.section = Str(j, field::kSection);
      i.policy = Str(j, field::kPolicy);
      i.author_id = Str(j, field::kAuthorId);
      i.created_at_ms = Num<std::int64_t>(j, field::kCreatedAt);
      i.size = Num<std::uint64_t>(j, "size");
      const auto t = j.find(field::kTombstone);  // a non-boolean is not a tombstone, never a throw
      i.tombstone = t != j.end() && t->is_boolean() && t->get<bool>();
      if (i.record_id.empty() || i.version == 0) return std::unexpected(Malformed(what, "a record row"));
      out.push_back(std::move(i));
    }
    return out;
  }

  Result<std::vector<std::uint8_t>> Fetch(const std::string& pid, const std::string& rid,
                                          std::uint64_t version) override {
    if (auto ok = CleanSegments("record", {pid, rid}); !ok) return std::unexpected(ok.error());
    const std::string target = version == 0
                                   ? Path(route::kRecord, {pid, rid})
                                   : Path(route::kRecordVersion, {pid, rid, std::to_string(version)});
    auto r = Call("record " + rid, "GET", target);
    if (!r) return std::unexpected(r.error());
    return std::vector<std::uint8_t>(r->raw.begin(), r->raw.end());
  }

  Result<void> Put(const std::string& pid, const std::string& rid, std::uint64_t version,
                   const RecordMeta& meta, std::span<const std::uint8_t> bytes) override {
    if (auto ok = CleanSegments("record", {pid, rid}); !ok) return std::unexpected(ok.error());
    auto r = Bytes("storing " + rid, "PUT", Path(route::kRecordVersion, {pid, rid, std::to_string(version)}),
                   bytes, MetaHeaders(meta));
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<void> Upload(const std::string& pid, const std::string& rid, std::uint64_t version,
                      const RecordMeta& meta, std::istream& in, std::uint64_t size) override {
    if (auto ok = CleanSegments("record", {pid, rid}); !ok) return std::unexpected(ok.error());
    client::Headers h = Auth();
    for (auto& kv : MetaHeaders(meta)) h.push_back(std::move(kv));
    auto r =
        http_->Upload("PUT", Path(route::kRecordVersion, {pid, rid, std::to_string(version)}), in, size, h);
    if (!r) return std::unexpected(r.error());
    if (auto c = Check("uploading " + rid, std::move(*r)); !c) return std::unexpected(c.error());
    return {};
  }

  Result<void> Download(const std::string& pid, const std::string& rid, std::uint64_t version,
                        std::ostream& out) override {
    if (auto ok = CleanSegments("record", {pid, rid}); !ok) return std::unexpected(ok.error());
    const std::string target = version == 0
                                   ? Path(route::kRecord, {pid, rid})
                                   : Path(route::kRecordVersion, {pid, rid, std::to_string(version)});
    auto r = http_->Download(target, out, Auth());
    if (!r) return std::unexpected(r.error());
    if (auto c = Check("downloading " + rid, std::move(*r)); !c) return std::unexpected(c.error());
    return {};
  }

  Result<void> Delete(const std::string& pid, const std::string& rid) override {
    if (auto ok = CleanSegments("record", {pid, rid}); !ok) return std::unexpected(ok.error());
    auto r = Call("deleting " + rid, "DELETE", Path(route::kRecord, {pid, rid}));
    if (!r) return std::unexpected(r.error());
    return {};
  }

  Result<envelope::Ed25519PublicKey> AuditKey() override {
    auto r = Call("server", "GET", Path(route::kServer));
    if (!r) return std::unexpected(r.error());
    auto k = HexOf<32>(r->body, field::kAuditKey);
    if (!k) return std::unexpected(Malformed("server", "audit key"));
    return *k;
  }

  Result<TreeHead> Head() override {
    auto r = Call("signed tree head", "GET", Path(route::kAuditHead));
    if (!r) return std::unexpected(r.error());
    TreeHead h;
    auto root = HexOf<32>(r->body, field::kRoot);
    auto sig = HexOf<64>(r->body, field::kSignature);
    if (!root || !sig) return std::unexpected(Malformed("signed tree head", "root or signature"));
    h.tree_size = Num<std::uint64_t>(r->body, field::kTreeSize);
    h.timestamp_ms = Num<std::int64_t>(r->body, field::kTimestamp);
    h.root = *root;
    h.signature = *sig;
    return h;
  }

  Result<std::vector<AuditRow>> PatientAudit(const std::string& pid) override {
    if (auto ok = CleanSegments("audit log", {pid}); !ok) return std::unexpected(ok.error());
    auto r = Call("audit log", "GET", Path(route::kPatientAudit, {pid}));
    if (!r) return std::unexpected(r.error());
    if (!r->body.contains(field::kEntries) || !r->body[field::kEntries].is_array())
      return std::unexpected(Malformed("audit log", "entries"));
    std::vector<AuditRow> out;
    for (const auto& e : r->body[field::kEntries])
      out.push_back({Num<std::uint64_t>(e, field::kIndex), Str(e, field::kEntry)});
    return out;
  }

  Result<std::vector<std::array<std::uint8_t, 32>>> Inclusion(std::uint64_t index,
                                                              std::uint64_t size) override {
    auto r = Call(
        "inclusion proof", "GET",
        PathWithQuery(route::kAuditInclusion, {},
                      {{field::kIndex, std::to_string(index)}, {field::kTreeSize, std::to_string(size)}}));
    if (!r) return std::unexpected(r.error());
    return HashList("inclusion proof", r->body, field::kPath);
  }

  Result<std::vector<std::array<std::uint8_t, 32>>> Consistency(std::uint64_t first,
                                                                std::uint64_t second) override {
    auto r = Call("consistency proof", "GET",
                  PathWithQuery(route::kAuditConsistency, {},
                                {{"first", std::to_string(first)}, {"second", std::to_string(second)}}));
    if (!r) return std::unexpected(r.error());
    return HashList("consistency proof", r->body, field::kProof);
  }

 private:
  client::Headers Auth() const {
    client::Headers h;
    if (!token_.empty()) h.emplace_back("Authorization", "Bearer " + token_);
    return h;
  }

  static client::Headers MetaHeaders(const RecordMeta& meta) {
    client::Headers h;
    if (!meta.section.empty()) h.emplace_back(std::string(header::kSection), meta.section);
    if (!meta.policy.empty()) h.emplace_back(std::string(header::kPolicy), meta.policy);
    return h;
  }

  static Result<Reply> Check(std::string_view what, client::HttpResponse response) {
    Reply r;
    r.status = response.status;
    const auto it = response.headers.find("content-type");
    if (it != response.headers.end() && it->second.starts_with("application/json"))
      r.body = json::parse(response.body, nullptr, false);
    r.raw = std::move(response.body);
    if (!r.ok()) return std::unexpected(ServerError(what, r));
    return r;
  }

  Result<Reply> Call(std::string_view what, std::string_view method, const std::string& target,
                     const json& body = nullptr) {
    const std::string text = body.is_null() ? std::string() : body.dump();
    auto r = http_->Request(method, target, text, body.is_null() ? std::string_view() : "application/json",
                            Auth());
    if (!r) return std::unexpected(r.error());
    return Check(what, std::move(*r));
  }

  Result<Reply> Bytes(std::string_view what, std::string_view method, const std::string& target,
                      std::span<const std::uint8_t> bytes, const client::Headers& extra) {
    client::Headers h = Auth();
    h.insert(h.end(), extra.begin(), extra.end());
    auto r = http_->Request(method, target, AsText(bytes), "application/octet-stream", h);
    if (!r) return std::unexpected(r.error());
    return Check(what, std::move(*r));
  }

  ServerAddress address_;
  client::ClientOptions options_;
  std::unique_ptr<client::HttpClient> http_;
  std::string token_;
};

}  // namespace

Result<std::unique_ptr<ServerPort>> ConnectHttp(const ServerAddress& address) {
  client::ClientOptions o;
  const auto colon = address.host_port.rfind(':');
  if (colon == std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "server: expected HOST:PORT, got '" + address.host_port + "'");
  o.host = address.host_port.substr(0, colon);
  try {
    o.port = std::stoi(address.host_port.substr(colon + 1));
  } catch (...) {
    return Fail(ErrorCode::kInvalidArgument, "server: bad port in '" + address.host_port + "'");
  }
  // Plain HTTP only to this machine (the server allows it on loopback only, for tests); any
  // other host needs the CA file, so a missing setting is an error, not a silent downgrade.
  const bool loopback =
      o.host == "127.0.0.1" || o.host == "::1" || o.host == "[::1]" || o.host == "localhost";
  if (address.ca_file.empty() && !loopback)
    return Fail(ErrorCode::kInvalidArgument,
                "no CA file for " + address.host_port +
                    ": give --ca-file PEM (or CIPHERCHART_CA_FILE); plain HTTP is "
                    "only for loopback");
  o.tls = !address.ca_file.empty();
  o.ca_file = address.ca_file;
  auto http = client::HttpClient::Connect(o);
  if (!http)
    return Fail(http.error().code(),
                "cannot reach the server at " + address.host_port + ": " + http.error().message());
  return std::unique_ptr<ServerPort>(std::make_unique<HttpServerPort>(address, o, std::move(*http)));
}

}  // namespace cipherchart::chart
