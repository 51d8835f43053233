#include "cipherchart/chart/reader.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "cipherchart/abe/maabe_serialize.h"
#include "cipherchart/abe/record.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/fhir/fhir.h"
#include "src/chart/streams.h"

namespace cipherchart::chart {

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

ChartView Present(const std::vector<ChartEntry>& entries) {
  ChartView v;
  std::vector<std::pair<std::string, std::string>> lines;  // date, line
  for (const auto& e : entries) {
    nlohmann::json meta = {{"record_id", e.record_id},   {"section", e.section},
                           {"author_id", e.author_id},   {"author", e.author_name},
                           {"created_at", e.created_at}, {"state", StateName(e.state)}};
    switch (e.state) {
      case ChartEntry::State::kOpened: {
        ++v.opened;
        const auto& rs = e.payload["resources"];
        meta["resources"] = rs.size();
        for (const auto& r : rs) {
          v.resources.push_back(r);
          std::string date = fhir::ResourceDate(r);
          if (date.empty()) date = e.created_at.substr(0, 10);
          lines.emplace_back(
              date, date.substr(0, 10) + "  " + e.section + "  " + e.author_name + "  " + fhir::Summary(r));
        }
        break;
      }
      case ChartEntry::State::kNoAccess:
        ++v.not_accessible;
        lines.emplace_back(
            "", "----------  " + e.section + "  " + e.author_name + "  not accessible with your keys");
        break;
      case ChartEntry::State::kTampered:
        ++v.tampered;
        meta["detail"] = e.detail;
        lines.emplace_back("", "!!!!!!!!!!  " + e.section + "  " + e.record_id + "  TAMPERED: " + e.detail);
        break;
      case ChartEntry::State::kError:
        ++v.errors;
        meta["detail"] = e.detail;
        lines.emplace_back("", "??????????  " + e.section + "  " + e.record_id + "  error: " + e.detail);
        break;
    }
    v.entries.push_back(std::move(meta));
  }
  std::sort(lines.begin(), lines.end());
  for (auto& [d, line] : lines) v.lines.push_back(std::move(line));
  return v;
}

// ---- reading ------------------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

using Listed = RecordInfo;

// A chart entry for listed record `l` by `author`, its state still to be decided.
ChartEntry EntryOf(const Listed& l, const Result<AccountInfo>& author) {
  ChartEntry e;
  e.record_id = l.record_id;
  e.version = l.version;
  e.section = l.section;
  e.author_id = l.author_id;
  e.created_at = UtcText(l.created_at_ms / 1000, "%Y-%m-%dT%H:%M:%SZ");
  if (author) e.author_name = author->name.empty() ? author->role : author->name;
  return e;
}

// Downloads `records` over up to `connections` logged-in connections at once.
Result<std::vector<Result<std::vector<std::uint8_t>>>> FetchAll(ServerPort& server,
                                                                const std::string& patient_id,
                                                                const std::vector<Listed>& records,
                                                                int connections) {
  std::vector<Result<std::vector<std::uint8_t>>> bodies(records.size(),
                                                        Fail(ErrorCode::kInternal, "not fetched"));
  std::atomic<std::size_t> next{0};
  const int n = std::max(1, std::min<int>(connections, static_cast<int>(records.size())));
  std::vector<std::unique_ptr<ServerPort>> ports;
  for (int w = 0; w < n && !records.empty(); ++w) {
    auto port = server.Fork();
    if (!port) return std::unexpected(port.error());
    ports.push_back(std::move(*port));
  }
  std::vector<std::thread> workers;
  workers.reserve(ports.size());
  std::mutex err_mu;
  std::optional<Error> conn_error;
  for (auto& port : ports) {
    workers.emplace_back([&, p = port.get()] {
      // Nothing may escape a worker thread: a malformed reply ends as an error, not a crash.
      try {
        for (std::size_t i = next++; i < records.size(); i = next++)
          bodies[i] = p->Fetch(patient_id, records[i].record_id, records[i].version);
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
Result<std::map<std::string, Listed>> ListLatest(ServerPort& server, const std::string& patient_id) {
  auto list = server.Records(patient_id);
  if (!list) return std::unexpected(list.error());
  std::map<std::string, Listed> latest;
  for (auto& r : *list) {
    auto& cur = latest[r.record_id];
    if (r.version >= cur.version) cur = std::move(r);
  }
  return latest;
}

}  // namespace

Result<std::vector<ChartEntry>> ReadChart(ServerPort& server, const abe::maabe::UserKey& keys,
                                          const std::string& patient_id, const ReadOptions& options,
                                          ReadStats* stats) {
  ReadStats local;
  ReadStats& st = stats ? *stats : local;
  auto t0 = Clock::now();
  auto listed = ListLatest(server, patient_id);
  if (!listed) return std::unexpected(listed.error());
  const std::map<std::string, Listed>& latest = *listed;
  std::vector<Listed> section_key_records, entries_listed;
  for (auto& [id, l] : latest) {
    if (l.tombstone) continue;
    if (protocol::KindOf(id) == protocol::RecordKind::kSectionKey) {
      if (options.skip.count(l.section) == 0) section_key_records.push_back(l);
    } else if (id.starts_with(protocol::kEntryPrefix) &&  // outside the grammar too: shown, never skipped
               (options.sections.empty() || options.sections.count(l.section) != 0) &&
               options.skip.count(l.section) == 0)
      entries_listed.push_back(l);
  }
  st.records = latest.size();
  st.list_ms = Ms(t0, Clock::now());

  // Authors: one lookup each.
  std::map<std::string, Result<AccountInfo>> authors;
  auto author_of = [&](const std::string& id) -> const Result<AccountInfo>& {
    auto it = authors.find(id);
    if (it == authors.end()) it = authors.emplace(id, server.Account(id)).first;
    return it->second;
  };

  // Phase 1: the section keys.
  auto t1 = Clock::now();
  auto key_bodies = FetchAll(server, patient_id, section_key_records, options.connections);
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
    auto k = OpenSectionKey(*body, e, keys, tkp ? &*tkp : nullptr, st.transform_ms);
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
    ChartEntry e = EntryOf(l, author_of(l.author_id));
    e.state = ChartEntry::State::kNoAccess;
    e.detail = "no key of section " + l.section + " opens with your attribute keys";
    out.push_back(std::move(e));
  }
  t1 = Clock::now();
  auto bodies = FetchAll(server, patient_id, to_fetch, options.connections);
  if (!bodies) return std::unexpected(bodies.error());
  st.fetch_ms += Ms(t1, Clock::now());

  for (std::size_t j = 0; j < to_fetch.size(); ++j) {
    const auto& l = to_fetch[j];
    const auto& body = (*bodies)[j];
    const auto& author = author_of(l.author_id);
    ChartEntry e = EntryOf(l, author);
    if (!author || !body) {
      e.state = ChartEntry::State::kError;
      e.detail = !author ? author.error().message() : body.error().message();
      out.push_back(std::move(e));
      continue;
    }
    const std::span<const std::uint8_t> bytes = *body;
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

Result<std::uint64_t> FetchAttachment(ServerPort& server, const abe::maabe::UserKey& keys,
                                      const std::string& patient_id, const std::string& record_id,
                                      const std::filesystem::path& out_path) {
  namespace fs = std::filesystem;
  if (protocol::KindOf(record_id) != protocol::RecordKind::kAttachment)
    return Fail(ErrorCode::kInvalidArgument, "'" + record_id + "' is not an attachment id (a.<hex>)");
  auto listed = ListLatest(server, patient_id);
  if (!listed) return std::unexpected(listed.error());
  const std::map<std::string, Listed>& latest = *listed;
  auto att = latest.find(record_id);
  if (att == latest.end() || att->second.tombstone)
    return Fail(ErrorCode::kPermissionDenied, "no attachment " + record_id + " in " + patient_id);
  const std::string& section = att->second.section;
  std::map<std::string, Result<AccountInfo>> authors;
  auto author_of = [&](const std::string& id) -> const Result<AccountInfo>& {
    auto it = authors.find(id);
    if (it == authors.end()) it = authors.emplace(id, server.Account(id)).first;
    return it->second;
  };
  const auto& author = author_of(att->second.author_id);
  if (!author) return std::unexpected(author.error());
  // The section keys of its section that this reader opens, before any download: a reader
  // without access is refused without fetching the attachment.
  std::map<std::string, SecretBytes> opened_keys;
  std::optional<Error> integrity;
  for (const auto& [id, l] : latest) {
    if (protocol::KindOf(id) != protocol::RecordKind::kSectionKey || l.tombstone || l.section != section)
      continue;
    const auto& sk_author = author_of(l.author_id);
    if (!sk_author) continue;
    auto body = server.Fetch(patient_id, id, l.version);
    if (!body) continue;
    double transform_ms = 0;
    auto k = OpenSectionKey(*body, envelope::EnvelopeExpectation{id, l.version, sk_author->identity_key},
                            keys, nullptr, transform_ms);
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
  const std::string partial = out_path.string() + ".partial";
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
      internal::FileSink(out, partial));
  if (!opener) return std::unexpected(opener.error());
  internal::SinkBuf into_opener([&](std::span<const std::uint8_t> b) { return opener->Update(b); });
  std::ostream sealed(&into_opener);
  auto got = server.Download(patient_id, record_id, att->second.version, sealed);
  auto failed = [&](const Error& e) -> Result<std::uint64_t> {
    if (e.code() == ErrorCode::kPermissionDenied || !IsIntegrityError(e)) return std::unexpected(e);
    return Fail(ErrorCode::kIntegrity, "attachment " + record_id + ": " + e.message());
  };
  if (const std::optional<Error>& sink_error = into_opener.error(); sink_error.has_value())
    return failed(*sink_error);
  if (!got) return std::unexpected(got.error());
  if (auto r = opener->Finish(); !r) return failed(r.error());
  out.flush();
  if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + partial);
  const auto written = static_cast<std::uint64_t>(out.tellp());
  out.close();
  std::error_code ec;
  fs::rename(partial, out_path, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot write " + out_path.string() + ": " + ec.message());
  return written;
}

}  // namespace cipherchart::chart
