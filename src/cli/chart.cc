#include "src/cli/chart.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <streambuf>
#include <thread>

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/abe/record.h"
#include "cipherchart/common/random.h"
#include "cipherchart/envelope/envelope.h"
#include "cipherchart/envelope/kdf.h"
#include "src/envelope/sha256.h"
#include "src/envelope/wire.h"

namespace cipherchart::cli {
namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

using envelope::internal::AsBytes;

Result<SecretBytes> PublicKeyFor(std::string_view record_id) {
  std::string info = "cipherchart public record v1|";
  info += record_id;
  return envelope::HkdfSha256(AsBytes("cipherchart public record"), {}, AsBytes(info), 32);
}

template <class T>
std::unexpected<Error> Pass(const Result<T>& r, const std::string& context) {
  return std::unexpected(Error(r.error().code(), context + ": " + r.error().message()));
}

}  // namespace

std::string PatientNamespace(std::string_view patient_id) {
  // The 16 base32 characters; the check character (which may be '*', '~', '$', '=' or 'U')
  // adds nothing unique and is not a name character.
  std::string ns = "patient_";
  const auto last_dash = patient_id.rfind('-');
  const std::string_view body =
      last_dash == std::string_view::npos ? patient_id : patient_id.substr(0, last_dash);
  for (char c : body) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) continue;
    ns.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return ns;
}

std::string_view StateName(ChartEntry::State s) {
  switch (s) {
    case ChartEntry::State::kOpened:
      return "opened";
    case ChartEntry::State::kNoAccess:
      return "not accessible";
    case ChartEntry::State::kTampered:
      return "tampered";
    case ChartEntry::State::kError:
      break;
  }
  return "error";
}

Result<std::string> NewEntryId() {
  std::array<std::uint8_t, 12> r{};
  if (auto ok = FillRandom(r); !ok) return std::unexpected(ok.error());
  return "e." + ToHex(r);
}

Result<SecretBytes> EntryKey(const SecretBytes& section_key, std::string_view entry_id) {
  std::string info = "cipherchart entry key v1|";
  info += entry_id;
  return envelope::HkdfSha256(section_key.span(), {}, AsBytes(info), 32);
}

envelope::PublicParamsId SectionKeyId(const SecretBytes& section_key) {
  std::vector<std::uint8_t> buf(AsBytes("cipherchart section key id v1").begin(),
                                AsBytes("cipherchart section key id v1").end());
  buf.insert(buf.end(), section_key.span().begin(), section_key.span().end());
  auto d = envelope::internal::Sha256Of(buf);
  std::fill(buf.begin(), buf.end(), 0);
  envelope::PublicParamsId id{};
  if (d) std::copy(d->begin(), d->end(), id.begin());
  return id;
}

Result<std::string> EnrolmentProof(std::string_view code) {
  std::string input = "cipherchart enrolment proof v1";
  input.push_back('\0');
  input.append(code);
  auto digest = envelope::internal::Sha256Of(envelope::internal::AsBytes(input));
  std::fill(input.begin(), input.end(), '\0');
  if (!digest) return std::unexpected(digest.error());
  return ToHex(*digest);
}

Result<AccountInfo> LookUpAccount(Session& s, const std::string& user_id) {
  auto r = s.Get("/v1/accounts/" + user_id);
  if (!r) return std::unexpected(r.error());
  if (!r->ok()) return std::unexpected(r->ToError("account " + user_id));
  if (!r->body.is_object())
    return Fail(ErrorCode::kInvalidEncoding, "account " + user_id + ": not a JSON object");
  AccountInfo a;
  a.user_id = user_id;
  a.role = r->body.value("role", "");
  a.state = r->body.value("state", "");
  a.organisation = r->body.value("organisation", "");
  a.name = r->body.value("name", "");
  auto ik = FromHex(r->body.value("identity_key", ""));
  auto dk = FromHex(r->body.value("delivery_key", ""));
  if (!ik || ik->size() != 32 || !dk || dk->size() != 32)
    return Fail(ErrorCode::kInvalidEncoding, "account " + user_id + ": malformed keys");
  std::copy(ik->begin(), ik->end(), a.identity_key.begin());
  std::copy(dk->begin(), dk->end(), a.delivery_key.begin());
  return a;
}

Result<std::vector<std::uint8_t>> SealPublicRecord(std::string_view record_id,
                                                   std::span<const std::uint8_t> payload,
                                                   const envelope::Ed25519SigningKey& author) {
  auto key = PublicKeyFor(record_id);
  if (!key) return std::unexpected(key.error());
  envelope::EnvelopeParams p;
  p.scheme_id = kPublicRecordSchemeId;
  p.policy = "public";
  p.kem_ciphertext = {0};
  p.record_id = std::string(record_id);
  p.record_version = 1;
  return envelope::SealEnvelope(p, *key, author, payload);
}

Result<std::vector<std::uint8_t>> OpenPublicRecord(std::span<const std::uint8_t> bytes,
                                                   std::string_view record_id,
                                                   const envelope::Ed25519PublicKey& author) {
  auto key = PublicKeyFor(record_id);
  if (!key) return std::unexpected(key.error());
  envelope::EnvelopeExpectation e{std::string(record_id), 1, author};
  auto opened =
      envelope::OpenEnvelope(bytes, e, [&](const envelope::EnvelopeHeader& h) -> Result<SecretBytes> {
        if (h.scheme_id != kPublicRecordSchemeId) return Fail(ErrorCode::kUnsupported, "not a public record");
        return *key;
      });
  if (!opened) return std::unexpected(opened.error());
  return std::move(opened->payload);
}

Result<abe::AuthorityDirectory> LoadDirectory(Session& s, const std::vector<abe::TrustedRoot>& roots,
                                              const std::string& patient_id,
                                              std::vector<std::string>& warnings) {
  std::vector<abe::TrustedRoot> all_roots = roots;
  std::vector<abe::DirectoryEntry> patient_entries;
  if (!patient_id.empty()) {
    const std::string base = "/v1/patients/" + patient_id + "/records/";
    auto list = s.Get("/v1/patients/" + patient_id + "/records");
    if (!list) return std::unexpected(list.error());
    if (!list->ok()) return std::unexpected(list->ToError("patient " + patient_id));
    std::string author_id;
    for (const auto& r : list->body["records"])
      if (r.value("record_id", "") == kOwnerDirectoryRecord && r.value("version", 0) == 1)
        author_id = r.value("author_id", "");
    if (!author_id.empty()) {
      auto author = LookUpAccount(s, author_id);
      if (!author) return std::unexpected(author.error());
      if (author->role != "practitioner")
        return Fail(ErrorCode::kSignerMismatch,
                    "the patient's authority was not published by a practitioner");
      auto env = s.Get(base + std::string(kOwnerDirectoryRecord) + "/versions/1");
      if (!env) return std::unexpected(env.error());
      auto payload = OpenPublicRecord(AsBytes(env->raw), kOwnerDirectoryRecord, author->identity_key);
      if (!payload) return Pass(payload, "the patient's authority record");
      auto entries = abe::ParseDirectory(*payload);
      if (!entries) return Pass(entries, "the patient's authority record");
      const std::string ns = PatientNamespace(patient_id);
      if (entries->size() != 1 || entries->front().chain.size() != 1 ||
          entries->front().chain.front().authority_namespace != ns)
        return Fail(ErrorCode::kSignerMismatch, "the patient's authority record is not for " + ns);
      all_roots.push_back(abe::TrustedRootOf(entries->front().chain.front()));
      patient_entries = std::move(*entries);
    }
  }
  abe::AuthorityDirectory dir(all_roots);
  const std::uint64_t now = NowSeconds();
  auto d = s.Get("/v1/directory");
  if (!d) return std::unexpected(d.error());
  if (!d->ok()) return std::unexpected(d->ToError("authority directory"));
  auto entries = abe::ParseDirectory(AsBytes(d->raw));
  if (!entries) return Pass(entries, "authority directory");
  for (const auto& e : *entries) {
    if (auto r = dir.Add(e.chain, e.statement, now); !r)
      warnings.push_back("authority " + e.statement.public_key.authority_namespace +
                         " skipped: " + r.error().message());
  }
  for (const auto& e : patient_entries)
    if (auto r = dir.Add(e.chain, e.statement, now); !r) return Pass(r, "the patient's authority");
  return dir;
}

// ---- reading ------------------------------------------------------------------------------------

namespace {

struct Listed {
  std::string record_id, section, author_id, created_at;
  std::uint64_t version = 0;
  bool tombstone = false;
};

Listed ParseListed(const nlohmann::json& r) {
  Listed l;
  l.record_id = r.value("record_id", "");
  l.version = r.value("version", 0ULL);
  l.section = r.value("section", "");
  l.author_id = r.value("author_id", "");
  l.tombstone = r.value("tombstone", false);
  if (const auto c = r.find("created_at"); c != r.end()) {
    if (c->is_string())
      l.created_at = c->get<std::string>();
    else if (c->is_number())  // unix milliseconds
      l.created_at = UtcText(c->get<std::int64_t>() / 1000, "%Y-%m-%dT%H:%M:%SZ");
  }
  return l;
}

// Downloads `records` over up to `connections` logged-in connections at once.
Result<std::vector<Result<std::string>>> FetchAll(const Settings& settings, const std::string& user_id,
                                                  const envelope::Ed25519SigningKey& identity,
                                                  const std::string& patient_id,
                                                  const std::vector<Listed>& records, int connections) {
  std::vector<Result<std::string>> bodies(records.size(), Fail(ErrorCode::kInternal, "not fetched"));
  std::atomic<std::size_t> next{0};
  const int n = std::max(1, std::min<int>(connections, static_cast<int>(records.size())));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(n));
  std::mutex err_mu;
  std::optional<Error> conn_error;
  for (int w = 0; w < n && !records.empty(); ++w) {
    workers.emplace_back([&] {
      // A malformed server reply must not terminate the process from a worker thread.
      try {
        auto ws = Session::Login(settings, user_id, identity);
        if (!ws) {
          std::lock_guard lock(err_mu);
          conn_error = ws.error();
          return;
        }
        for (std::size_t i = next++; i < records.size(); i = next++) {
          auto r = ws->Get("/v1/patients/" + patient_id + "/records/" + records[i].record_id + "/versions/" +
                           std::to_string(records[i].version));
          if (!r)
            bodies[i] = std::unexpected(r.error());
          else if (!r->ok())
            bodies[i] = std::unexpected(r->ToError("record " + records[i].record_id));
          else
            bodies[i] = std::move(r->raw);
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(err_mu);
        conn_error =
            Error(ErrorCode::kInvalidEncoding, std::string("malformed reply from the server: ") + e.what());
      }
    });
  }
  for (auto& t : workers) t.join();
  if (conn_error) return std::unexpected(*conn_error);
  return bodies;
}

// Opens a section key envelope with the reader's keys, directly or through a transform key.
Result<SecretBytes> OpenSectionKey(std::span<const std::uint8_t> bytes,
                                   const envelope::EnvelopeExpectation& expected,
                                   const abe::maabe::UserKey& keys, const abe::maabe::TransformKeyPair* tkp,
                                   double& transform_ms) {
  if (tkp == nullptr) {
    abe::ReaderKeys rk;
    rk.multi_authority.push_back(keys);
    auto opened =
        abe::OpenRecordSection(rk, bytes, expected.author, expected.record_id, expected.record_version);
    if (!opened) return std::unexpected(opened.error());
    return SecretBytes(opened->payload);
  }
  // Outsourced: the transform (every pairing) is the proxy's work, run here in-process with the
  // transform key only; the client finishes with one GT exponentiation (maabe.h).
  auto resolver = [&](const envelope::EnvelopeHeader& h) -> Result<SecretBytes> {
    if (h.scheme_id != abe::kRw15MaAbeSchemeId) return Fail(ErrorCode::kUnsupported, "not an RW15 envelope");
    auto ct = abe::maabe::ParseCiphertext(h.kem_ciphertext);
    if (!ct) return std::unexpected(ct.error());
    if (ct->policy != h.policy) return Fail(ErrorCode::kInvalidEncoding, "KEM ciphertext policy mismatch");
    auto id = abe::MultiAuthorityParamsId(ct->authorities);
    if (!id || *id != h.public_params_id)
      return Fail(ErrorCode::kInvalidEncoding, "KEM authorities mismatch");
    const auto t0 = Clock::now();
    auto partial = abe::maabe::Transform(tkp->tk, *ct);
    transform_ms += Ms(t0, Clock::now());
    if (!partial) return std::unexpected(partial.error());
    return abe::maabe::DecryptTransformed(tkp->b, *partial);
  };
  auto opened = envelope::OpenEnvelope(bytes, expected, resolver);
  if (!opened) return std::unexpected(opened.error());
  return SecretBytes(opened->payload);
}

// The patient's records, each at its latest version (tombstones included: callers skip them).
Result<std::map<std::string, Listed>> ListLatest(Session& s, const std::string& patient_id) {
  auto list = s.Get("/v1/patients/" + patient_id + "/records");
  if (!list) return std::unexpected(list.error());
  if (!list->ok()) return std::unexpected(list->ToError("patient " + patient_id));
  std::map<std::string, Listed> latest;
  for (const auto& r : list->body["records"]) {
    Listed l = ParseListed(r);
    auto& cur = latest[l.record_id];
    if (l.version >= cur.version) cur = std::move(l);
  }
  return latest;
}

// Errors that mean "this record is not what its author wrote", as opposed to "not for you".
bool IsIntegrityError(const Error& e) {
  return e.code() == ErrorCode::kIntegrity || e.code() == ErrorCode::kSignerMismatch ||
         e.code() == ErrorCode::kInvalidEncoding || e.code() == ErrorCode::kContextMismatch;
}

}  // namespace

Result<std::vector<ChartEntry>> ReadChart(const Settings& settings, const std::string& user_id,
                                          const envelope::Ed25519SigningKey& identity,
                                          const std::string& patient_id, const abe::maabe::UserKey& keys,
                                          const ReadOptions& options, ReadStats* stats) {
  ReadStats local;
  ReadStats& st = stats ? *stats : local;
  auto t0 = Clock::now();
  auto s = Session::Login(settings, user_id, identity);
  if (!s) return std::unexpected(s.error());
  auto listed = ListLatest(*s, patient_id);
  if (!listed) return std::unexpected(listed.error());
  const std::map<std::string, Listed>& latest = *listed;
  std::vector<Listed> section_key_records, entries_listed;
  for (auto& [id, l] : latest) {
    if (l.tombstone) continue;
    if (id.starts_with("sk."))
      section_key_records.push_back(l);
    else if (id.starts_with("e.") && (options.sections.empty() || options.sections.count(l.section) != 0))
      entries_listed.push_back(l);
  }
  st.records = latest.size();
  st.list_ms = Ms(t0, Clock::now());

  // Authors: one lookup each.
  std::map<std::string, Result<AccountInfo>> authors;
  auto author_of = [&](const std::string& id) -> const Result<AccountInfo>& {
    auto it = authors.find(id);
    if (it == authors.end()) it = authors.emplace(id, LookUpAccount(*s, id)).first;
    return it->second;
  };

  // Phase 1: the section keys.
  auto t1 = Clock::now();
  auto key_bodies =
      FetchAll(settings, user_id, identity, patient_id, section_key_records, options.connections);
  if (!key_bodies) return std::unexpected(key_bodies.error());
  st.fetch_ms += Ms(t1, Clock::now());
  std::optional<abe::maabe::TransformKeyPair> tkp;
  const auto t2 = Clock::now();
  if (options.outsourced && !keys.by_authority.empty()) {
    auto t = abe::maabe::MakeTransformKey(keys);
    if (!t) return std::unexpected(t.error());
    tkp.emplace(std::move(*t));
  }
  std::map<std::string, SecretBytes> section_keys;  // by record id
  std::map<std::string, Error> section_key_errors;
  std::set<std::string> readable_sections;
  for (std::size_t i = 0; i < section_key_records.size(); ++i) {
    const auto& l = section_key_records[i];
    const auto& author = author_of(l.author_id);
    const auto& body = (*key_bodies)[i];
    if (!author || !body) {
      section_key_errors.emplace(l.record_id, !author ? author.error() : body.error());
      continue;
    }
    envelope::EnvelopeExpectation e{l.record_id, l.version, author->identity_key};
    auto k = OpenSectionKey(AsBytes(*body), e, keys, tkp ? &*tkp : nullptr, st.transform_ms);
    if (k && k->size() == 32) {
      section_keys.emplace(l.record_id, std::move(*k));
      readable_sections.insert(l.section);
      ++st.section_keys_opened;
    } else {
      Error why = k ? Error(ErrorCode::kInvalidEncoding, "section key is not 32 bytes") : k.error();
      // A forged or damaged key record: fetch its section's entries so they are reported as
      // tampered, not silently as "not accessible".
      if (IsIntegrityError(why)) readable_sections.insert(l.section);
      section_key_errors.emplace(l.record_id, std::move(why));
    }
  }
  st.abe_ms = Ms(t2, Clock::now());

  // Phase 2: only the entries of sections with a key this reader opened; the others are not
  // downloaded at all (no wasted transfer, and no "fetched" entry in the patient's log).
  std::vector<ChartEntry> out;
  std::vector<Listed> to_fetch;
  for (const auto& l : entries_listed) {
    if (readable_sections.count(l.section) != 0) {
      to_fetch.push_back(l);
      continue;
    }
    ChartEntry e;
    e.record_id = l.record_id;
    e.version = l.version;
    e.section = l.section;
    e.author_id = l.author_id;
    e.created_at = l.created_at;
    if (const auto& author = author_of(l.author_id))
      e.author_name = author->name.empty() ? author->role : author->name;
    e.state = ChartEntry::State::kNoAccess;
    e.detail = "no key of section " + l.section + " opens with your attribute keys";
    out.push_back(std::move(e));
  }
  t1 = Clock::now();
  auto bodies = FetchAll(settings, user_id, identity, patient_id, to_fetch, options.connections);
  if (!bodies) return std::unexpected(bodies.error());
  st.fetch_ms += Ms(t1, Clock::now());

  for (std::size_t j = 0; j < to_fetch.size(); ++j) {
    const auto& l = to_fetch[j];
    const auto& body = (*bodies)[j];
    ChartEntry e;
    e.record_id = l.record_id;
    e.version = l.version;
    e.section = l.section;
    e.author_id = l.author_id;
    e.created_at = l.created_at;
    const auto& author = author_of(l.author_id);
    if (author) e.author_name = author->name.empty() ? author->role : author->name;
    if (!author || !body) {
      e.state = ChartEntry::State::kError;
      e.detail = !author ? author.error().message() : body.error().message();
      out.push_back(std::move(e));
      continue;
    }
    const auto bytes = AsBytes(*body);
    auto header = envelope::ParseEnvelopeHeader(bytes);
    if (!header || header->scheme_id != kSectionKeyEntrySchemeId) {
      e.state = ChartEntry::State::kTampered;
      e.detail = header ? "not an entry envelope" : header.error().ToString();
      out.push_back(std::move(e));
      continue;
    }
    const std::string sk_id(header->kem_ciphertext.begin(), header->kem_ciphertext.end());
    auto sk = section_keys.find(sk_id);
    if (sk == section_keys.end()) {
      auto why = section_key_errors.find(sk_id);
      e.state = why != section_key_errors.end() && IsIntegrityError(why->second)
                    ? ChartEntry::State::kTampered
                    : ChartEntry::State::kNoAccess;
      e.detail =
          why == section_key_errors.end() ? "section key " + sk_id + " not found" : why->second.ToString();
      out.push_back(std::move(e));
      continue;
    }
    auto ek = EntryKey(sk->second, l.record_id);
    if (!ek) return std::unexpected(ek.error());
    envelope::EnvelopeExpectation x{l.record_id, l.version, author->identity_key};
    auto opened =
        envelope::OpenEnvelope(bytes, x, [&](const envelope::EnvelopeHeader& h) -> Result<SecretBytes> {
          if (h.public_params_id != SectionKeyId(sk->second))
            return Fail(ErrorCode::kIntegrity, "entry names another section key");
          return *ek;
        });
    if (!opened) {
      e.state = ChartEntry::State::kTampered;
      e.detail = opened.error().ToString();
    } else {
      e.payload = nlohmann::json::parse(opened->payload.begin(), opened->payload.end(), nullptr, false);
      if (!e.payload.is_object() || !e.payload["resources"].is_array() ||
          opened->header.policy != l.section) {
        e.state = ChartEntry::State::kTampered;
        e.detail = "entry payload is not the section's JSON";
      } else {
        e.state = ChartEntry::State::kOpened;
        ++st.entries_opened;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

// ---- writing ------------------------------------------------------------------------------------

ChartWriter::ChartWriter(Session& session, std::string patient_id, const envelope::Ed25519SigningKey& author,
                         abe::AuthorityDirectory directory, fhir::PolicyFile policies,
                         std::string organisation, const abe::maabe::UserKey* reader_keys)
    : session_(session),
      patient_id_(std::move(patient_id)),
      author_(author),
      directory_(std::move(directory)),
      policies_(std::move(policies)),
      organisation_(std::move(organisation)),
      reader_(reader_keys) {}

Result<std::string> ChartWriter::PolicyFor(const std::string& section) {
  const std::map<std::string, std::string> vars = {{"patient_ns", PatientNamespace(patient_id_)},
                                                   {"org", organisation_}};
  std::string text;
  if (section == kResearchSection) {
    // De-identified copies ([researcher] policy of the policy file).
    if (policies_.researcher_policy_template.empty())
      return Fail(ErrorCode::kInvalidArgument, "the policy file has no [researcher] policy");
    auto expanded = fhir::ExpandTemplate(policies_, policies_.researcher_policy_template, vars);
    if (!expanded) return std::unexpected(expanded.error());
    text = std::move(*expanded);
  } else {
    auto sec = fhir::ParseSection(section);
    if (!sec) return std::unexpected(sec.error());
    auto expanded = fhir::ExpandPolicy(policies_, *sec, vars);
    if (!expanded) return std::unexpected(expanded.error());
    text = std::move(*expanded);
  }
  auto node = abe::ParsePolicy(text);
  if (!node) return Pass(node, "policy of section " + section);
  return abe::PolicyToString(**node);
}

Result<const ChartWriter::SectionKey*> ChartWriter::KeyFor(const std::string& section) {
  if (auto it = keys_.find(section); it != keys_.end()) return &it->second;
  auto policy = PolicyFor(section);
  if (!policy) return std::unexpected(policy.error());
  const std::string base = "/v1/patients/" + patient_id_ + "/records/";
  if (!listed_) {
    auto list = session_.Get("/v1/patients/" + patient_id_ + "/records");
    if (!list) return std::unexpected(list.error());
    if (!list->ok()) return std::unexpected(list->ToError("patient " + patient_id_));
    for (const auto& r : list->body["records"]) {
      const std::string id = r.value("record_id", "");
      if (id.starts_with("sk.") && !r.value("tombstone", false))
        existing_[r.value("section", "")].push_back(r);
    }
    listed_ = true;
  }
  // Reuse the newest key of this section that this writer made itself, can still open, and whose
  // policy is the current one: the listing's policy label (server metadata) preselects, the
  // policy the envelope carries (authenticated, canonical) decides. Only its own keys: anyone
  // may seal a section key (it takes public keys only) and keep a copy, so reusing another
  // writer's key would let that writer read everything written after it (docs/threat-model.md).
  auto node = abe::ParsePolicy(*policy);
  if (!node) return std::unexpected(node.error());
  const std::string canonical = abe::PolicyToString(**node);
  const auto& listed = existing_[section];
  const std::size_t count = listed.size();
  // Newest first by the number in "sk.<section>.<n>" (as text, .9 would sort after .10).
  std::vector<std::pair<std::uint64_t, const nlohmann::json*>> mine;
  const std::string prefix = "sk." + section + ".";
  for (const auto& r : listed) {
    const std::string id = r.value("record_id", "");
    if (r.value("author_id", "") != session_.user_id() || !id.starts_with(prefix)) continue;
    std::uint64_t n = 0;
    const auto tail = std::string_view(id).substr(prefix.size());
    if (std::from_chars(tail.data(), tail.data() + tail.size(), n).ec != std::errc()) continue;
    mine.emplace_back(n, &r);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  if (reader_ != nullptr) {
    for (const auto& [n, rec] : mine) {
      if (rec->value("policy", "") != *policy) continue;
      const std::string id = rec->value("record_id", "");
      auto env = session_.Get(base + id + "/versions/1");
      if (!env || !env->ok()) continue;
      abe::ReaderKeys rk;
      rk.multi_authority.push_back(*reader_);
      auto opened = abe::OpenRecordSection(rk, AsBytes(env->raw), author_.public_key(), id, 1);
      if (!opened || opened->payload.size() != 32 || opened->header.policy != canonical) continue;
      auto& slot = keys_[section];
      slot.record_id = id;
      slot.key = SecretBytes(opened->payload);
      return &slot;
    }
  }
  // A new section key under the current policy.
  auto key = SecretBytes::Random(32);
  if (!key) return std::unexpected(key.error());
  std::string id;
  for (std::size_t n = count + 1;; ++n) {
    id = "sk." + section + "." + std::to_string(n);
    auto sealed = abe::SealRecordSection(directory_, NowSeconds(), **node, id, 1, key->span(), author_);
    if (!sealed) return Pass(sealed, "section " + section);
    auto put = session_.PutBytes("PUT", base + id + "/versions/1", *sealed,
                                 {{"X-CipherChart-Section", section}, {"X-CipherChart-Policy", *policy}});
    if (!put) return std::unexpected(put.error());
    if (put->status == 409) continue;  // another writer took this number: take the next
    if (!put->ok())
      return Fail(ErrorCode::kInvalidArgument, "storing section key " + id + ": " + put->Describe());
    break;
  }
  ++made_;
  auto& slot = keys_[section];
  slot.record_id = id;
  slot.key = std::move(*key);
  return &slot;
}

Result<std::string> ChartWriter::AddEntry(const std::string& section, const nlohmann::json& payload) {
  auto sk = KeyFor(section);
  if (!sk) return std::unexpected(sk.error());
  auto new_id = NewEntryId();
  if (!new_id) return std::unexpected(new_id.error());
  std::string id = std::move(*new_id);
  auto ek = EntryKey((*sk)->key, id);
  if (!ek) return std::unexpected(ek.error());
  envelope::EnvelopeParams p;
  p.scheme_id = kSectionKeyEntrySchemeId;
  p.public_params_id = SectionKeyId((*sk)->key);
  p.policy = section;
  p.kem_ciphertext.assign((*sk)->record_id.begin(), (*sk)->record_id.end());
  p.record_id = id;
  p.record_version = 1;
  const std::string text = payload.dump();
  auto sealed = envelope::SealEnvelope(p, *ek, author_, AsBytes(text));
  if (!sealed) return std::unexpected(sealed.error());
  auto put =
      session_.PutBytes("PUT", "/v1/patients/" + patient_id_ + "/records/" + id + "/versions/1", *sealed,
                        {{"X-CipherChart-Section", section}, {"X-CipherChart-Policy", "entry"}});
  if (!put) return std::unexpected(put.error());
  if (!put->ok()) return Fail(ErrorCode::kInvalidArgument, "storing entry: " + put->Describe());
  return id;
}

namespace {

// An ostream whose bytes go to a ByteSink: a download streams straight into an EnvelopeOpener.
// The first error is kept (and the stream goes bad); later bytes are dropped.
class SinkBuf : public std::streambuf {
 public:
  explicit SinkBuf(envelope::ByteSink sink) : sink_(std::move(sink)) {}
  const std::optional<Error>& error() const { return error_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (error_) return 0;
    auto r = sink_(std::span(reinterpret_cast<const std::uint8_t*>(s), static_cast<std::size_t>(n)));
    if (!r) error_ = r.error();
    return error_ ? 0 : n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  envelope::ByteSink sink_;
  std::optional<Error> error_;
};

envelope::ByteSink FileSink(std::ofstream& out, const std::string& path) {
  return [&out, path](std::span<const std::uint8_t> b) -> Result<void> {
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + path);
    return {};
  };
}

}  // namespace

Result<AttachmentRef> ChartWriter::AddAttachment(const std::string& path) {
  namespace fs = std::filesystem;
  constexpr std::string_view kSection = "attachments";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot open the attachment " + path);
  auto sk = KeyFor(std::string(kSection));
  if (!sk) return std::unexpected(sk.error());
  auto entry_id = NewEntryId();
  if (!entry_id) return std::unexpected(entry_id.error());
  const std::string id = "a." + entry_id->substr(2);
  auto key = EntryKey((*sk)->key, id);
  if (!key) return std::unexpected(key.error());
  envelope::EnvelopeParams p;
  p.scheme_id = kSectionKeyEntrySchemeId;
  p.public_params_id = SectionKeyId((*sk)->key);
  p.policy = std::string(kSection);
  p.kem_ciphertext.assign((*sk)->record_id.begin(), (*sk)->record_id.end());
  p.record_id = id;
  p.record_version = 1;
  // One pass over the file: FHIR's Attachment.hash (SHA-1, base64) and the envelope, sealed to
  // a temporary file (ciphertext only) so that the upload can give its exact length.
  const fs::path tmp = fs::temp_directory_path() / ("cipherchart-" + id + ".sealed");
  struct Remove {
    fs::path p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } remove_tmp{tmp};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha1(), nullptr) != 1)
    return Fail(ErrorCode::kInternal, "SHA-1 unavailable");
  std::uint64_t size = 0;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + tmp.string());
    auto sealer = envelope::EnvelopeSealer::Create(p, *key, author_, FileSink(out, tmp.string()));
    if (!sealer) return std::unexpected(sealer.error());
    std::vector<char> buf(1 << 18);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      const auto n = static_cast<std::size_t>(in.gcount());
      EVP_DigestUpdate(md.get(), buf.data(), n);
      if (auto r = sealer->Update(std::span(reinterpret_cast<const std::uint8_t*>(buf.data()), n)); !r)
        return std::unexpected(r.error());
      size += n;
    }
    if (in.bad()) return Fail(ErrorCode::kInvalidArgument, "cannot read the attachment " + path);
    if (auto r = sealer->Finish(); !r) return std::unexpected(r.error());
    out.flush();
    if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + tmp.string());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &digest_len);
  std::string b64(4 * ((digest_len + 2) / 3) + 1, '\0');
  b64.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(digest_len))));
  std::error_code ec;
  const auto sealed_size = fs::file_size(tmp, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot read " + tmp.string());
  std::ifstream sealed(tmp, std::ios::binary);
  auto put =
      session_.Upload("/v1/patients/" + patient_id_ + "/records/" + id + "/versions/1", sealed, sealed_size,
                      {{"X-CipherChart-Section", std::string(kSection)}, {"X-CipherChart-Policy", "entry"}});
  if (!put) return std::unexpected(put.error());
  if (!put->ok()) return Fail(ErrorCode::kInvalidArgument, "storing attachment: " + put->Describe());
  return AttachmentRef{id, size, b64};
}

Result<std::uint64_t> FetchAttachment(const Settings& settings, const std::string& user_id,
                                      const envelope::Ed25519SigningKey& identity,
                                      const std::string& patient_id, const abe::maabe::UserKey& keys,
                                      const std::string& record_id, const std::string& out_path) {
  namespace fs = std::filesystem;
  if (!record_id.starts_with("a.") || record_id.size() > 64)
    return Fail(ErrorCode::kInvalidArgument, "'" + record_id + "' is not an attachment id (a.<hex>)");
  auto s = Session::Login(settings, user_id, identity);
  if (!s) return std::unexpected(s.error());
  auto listed = ListLatest(*s, patient_id);
  if (!listed) return std::unexpected(listed.error());
  const std::map<std::string, Listed>& latest = *listed;
  auto att = latest.find(record_id);
  if (att == latest.end() || att->second.tombstone)
    return Fail(ErrorCode::kPermissionDenied, "no attachment " + record_id + " in " + patient_id);
  const std::string& section = att->second.section;
  std::map<std::string, Result<AccountInfo>> authors;
  auto author_of = [&](const std::string& id) -> const Result<AccountInfo>& {
    auto it = authors.find(id);
    if (it == authors.end()) it = authors.emplace(id, LookUpAccount(*s, id)).first;
    return it->second;
  };
  const auto& author = author_of(att->second.author_id);
  if (!author) return std::unexpected(author.error());
  // The section keys of its section that this reader opens, before any download: a reader
  // without access is refused without fetching the attachment.
  std::map<std::string, SecretBytes> opened_keys;
  std::optional<Error> integrity;
  for (const auto& [id, l] : latest) {
    if (!id.starts_with("sk.") || l.tombstone || l.section != section) continue;
    const auto& sk_author = author_of(l.author_id);
    if (!sk_author) continue;
    std::string target = "/v1/patients/";
    target.append(patient_id)
        .append("/records/")
        .append(id)
        .append("/versions/")
        .append(std::to_string(l.version));
    auto body = s->Get(target);
    if (!body || !body->ok()) continue;
    double transform_ms = 0;
    auto k = OpenSectionKey(AsBytes(body->raw),
                            envelope::EnvelopeExpectation{id, l.version, sk_author->identity_key}, keys,
                            nullptr, transform_ms);
    if (k && k->size() == 32)
      opened_keys.emplace(id, std::move(*k));
    else if (!k && IsIntegrityError(k.error()))
      integrity = k.error();
  }
  if (opened_keys.empty()) {
    if (integrity) return std::unexpected(*integrity);
    return Fail(ErrorCode::kPermissionDenied,
                "attachment " + record_id + ": not accessible with your keys (section " + section + ")");
  }
  // The download streams straight into the opener; plaintext goes to FILE.partial, renamed to
  // FILE only once the final signature verified.
  const std::string partial = out_path + ".partial";
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } cleanup{partial};
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + partial);
  auto opener = envelope::EnvelopeOpener::Create(
      envelope::EnvelopeExpectation{record_id, att->second.version, author->identity_key},
      [&](const envelope::EnvelopeHeader& h) -> Result<SecretBytes> {
        const std::string sk_id(h.kem_ciphertext.begin(), h.kem_ciphertext.end());
        auto found = opened_keys.find(sk_id);
        if (found == opened_keys.end()) {
          auto named = latest.find(sk_id);
          if (named != latest.end() && !named->second.tombstone && named->second.section == section)
            return Fail(ErrorCode::kPermissionDenied, "attachment " + record_id + ": its section key " +
                                                          sk_id + " does not open with your keys");
          return Fail(ErrorCode::kIntegrity,
                      "attachment " + record_id + " names no section key of its section");
        }
        if (h.scheme_id != kSectionKeyEntrySchemeId || h.public_params_id != SectionKeyId(found->second) ||
            h.policy != section)
          return Fail(ErrorCode::kIntegrity, "attachment names another section key or section");
        return EntryKey(found->second, record_id);
      },
      FileSink(out, partial));
  if (!opener) return std::unexpected(opener.error());
  SinkBuf into_opener([&](std::span<const std::uint8_t> b) { return opener->Update(b); });
  std::ostream sealed(&into_opener);
  auto got = s->Download("/v1/patients/" + patient_id + "/records/" + record_id + "/versions/" +
                             std::to_string(att->second.version),
                         sealed);
  auto failed = [&](const Error& e) -> Result<std::uint64_t> {
    if (e.code() == ErrorCode::kPermissionDenied || !IsIntegrityError(e)) return std::unexpected(e);
    return Fail(ErrorCode::kIntegrity, "attachment " + record_id + ": " + e.message());
  };
  if (const std::optional<Error>& sink_error = into_opener.error(); sink_error.has_value())
    return failed(*sink_error);
  if (!got) return std::unexpected(got.error());
  if (!got->ok()) return std::unexpected(got->ToError("attachment " + record_id));
  if (auto r = opener->Finish(); !r) return failed(r.error());
  out.flush();
  if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + partial);
  const auto written = static_cast<std::uint64_t>(out.tellp());
  out.close();
  std::error_code ec;
  fs::rename(partial, out_path, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot write " + out_path + ": " + ec.message());
  return written;
}

}  // namespace cipherchart::cli
