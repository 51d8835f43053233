#include "cipherchart/chart/writer.h"

#include <openssl/evp.h>

#include <charconv>
#include <fstream>

#include "cipherchart/abe/policy.h"
#include "cipherchart/abe/record.h"
#include "cipherchart/chart/directory.h"
#include "cipherchart/chart/records.h"
#include "cipherchart/chart/wallet.h"
#include "cipherchart/common/bytes.h"
#include "cipherchart/fhir/deidentify.h"
#include "cipherchart/fhir/policy_file.h"
#include "src/chart/streams.h"

namespace cipherchart::chart {

ChartWriter::ChartWriter(ServerPort& server, std::string patient_id, std::string author_id,
                         const envelope::Ed25519SigningKey& author, abe::AuthorityDirectory directory,
                         fhir::PolicyFile policies, std::string organisation,
                         const abe::maabe::UserKey* reader_keys)
    : server_(server),
      patient_id_(std::move(patient_id)),
      author_id_(std::move(author_id)),
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
  if (!node) return WithContext(node, "policy of section " + section);
  return abe::PolicyToString(**node);
}

Result<const ChartWriter::SectionKey*> ChartWriter::KeyFor(const std::string& section) {
  if (auto it = keys_.find(section); it != keys_.end()) return &it->second;
  auto policy = PolicyFor(section);
  if (!policy) return std::unexpected(policy.error());
  if (!listed_) {
    auto list = server_.Records(patient_id_);
    if (!list) return std::unexpected(list.error());
    for (auto& r : *list)
      if (protocol::KindOf(r.record_id) == protocol::RecordKind::kSectionKey && !r.tombstone)
        existing_[r.section].push_back(std::move(r));
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
  std::vector<std::pair<std::uint64_t, const RecordInfo*>> mine;
  const std::string prefix = std::string(protocol::kSectionKeyPrefix) + section + ".";
  for (const auto& r : listed) {
    const std::string& id = r.record_id;
    if (r.author_id != author_id_ || !id.starts_with(prefix)) continue;
    std::uint64_t n = 0;
    const auto tail = std::string_view(id).substr(prefix.size());
    if (std::from_chars(tail.data(), tail.data() + tail.size(), n).ec != std::errc()) continue;
    mine.emplace_back(n, &r);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  if (reader_ != nullptr) {
    for (const auto& [n, rec] : mine) {
      if (rec->policy != *policy) continue;
      const std::string& id = rec->record_id;
      auto env = server_.Fetch(patient_id_, id, 1);
      if (!env) continue;
      abe::ReaderKeys rk;
      rk.multi_authority.push_back(*reader_);
      auto opened = abe::OpenRecordSection(rk, *env, author_.public_key(), id, 1);
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
    id = protocol::SectionKeyRecordId(section, static_cast<unsigned>(n));
    auto sealed = abe::SealRecordSection(directory_, NowSeconds(), **node, id, 1, key->span(), author_);
    if (!sealed) return WithContext(sealed, "section " + section);
    auto put = server_.Put(patient_id_, id, 1, {section, *policy}, *sealed);
    if (!put && put.error().code() == ErrorCode::kConflict) continue;  // another writer took this number
    if (!put) return std::unexpected(put.error());
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
  auto new_id = protocol::NewEntryId();
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
  if (auto put = server_.Put(patient_id_, id, 1, {section, "entry"}, *sealed); !put)
    return std::unexpected(put.error());
  return id;
}

Result<AttachmentRef> ChartWriter::AddAttachment(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  constexpr std::string_view kSection = kAttachmentsSection;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot open the attachment " + path.string());
  auto sk = KeyFor(std::string(kSection));
  if (!sk) return std::unexpected(sk.error());
  auto new_id = protocol::NewAttachmentId();
  if (!new_id) return std::unexpected(new_id.error());
  const std::string id = *new_id;
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
    auto sealer = envelope::EnvelopeSealer::Create(p, *key, author_, internal::FileSink(out, tmp.string()));
    if (!sealer) return std::unexpected(sealer.error());
    std::vector<char> buf(1 << 18);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      const auto n = static_cast<std::size_t>(in.gcount());
      if (EVP_DigestUpdate(md.get(), buf.data(), n) != 1) return Fail(ErrorCode::kInternal, "SHA-1 failed");
      if (auto r = sealer->Update(std::span(reinterpret_cast<const std::uint8_t*>(buf.data()), n)); !r)
        return std::unexpected(r.error());
      size += n;
    }
    if (in.bad()) return Fail(ErrorCode::kInvalidArgument, "cannot read the attachment " + path.string());
    if (auto r = sealer->Finish(); !r) return std::unexpected(r.error());
    out.flush();
    if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + tmp.string());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &digest_len) != 1)
    return Fail(ErrorCode::kInternal, "SHA-1 failed");
  std::string b64(4 * ((digest_len + 2) / 3) + 1, '\0');
  b64.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(digest_len))));
  std::error_code ec;
  const auto sealed_size = fs::file_size(tmp, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot read " + tmp.string());
  std::ifstream sealed(tmp, std::ios::binary);
  if (auto put = server_.Upload(patient_id_, id, 1, {std::string(kSection), "entry"}, sealed, sealed_size);
      !put)
    return std::unexpected(put.error());
  return AttachmentRef{id, size, b64};
}

Result<std::size_t> ChartWriter::WriteResearchCopy(const std::vector<nlohmann::json>& research,
                                                   const std::string& kind) {
  if (research.empty() || policies_.researcher_policy_template.empty()) return 0;
  auto salt = SecretBytes::Random(32);
  if (!salt) return std::unexpected(salt.error());
  auto deid = fhir::DeidentifyAll(research, salt->span());
  if (!deid) return std::unexpected(deid.error());
  auto id = AddEntry(std::string(kResearchSection), {{"kind", kind}, {"resources", *deid}});
  if (!id) return std::unexpected(id.error());
  return 1;
}

Result<std::size_t> ChartWriter::WriteResources(const std::vector<nlohmann::json>& resources,
                                                const std::string& kind, Batching batching,
                                                const ProgressFn& progress,
                                                const std::vector<fhir::Section>& sections) {
  auto for_research = [&](fhir::Section s) {
    const auto& r = policies_.researcher_sections;
    return std::find(r.begin(), r.end(), s) != r.end();
  };
  std::vector<nlohmann::json> research;
  std::size_t entries = 0;
  if (batching == Batching::kBySection) {
    auto split = fhir::SplitResources(resources);
    for (auto& [section, list] : split.sections) {
      auto id = AddEntry(std::string(fhir::SectionName(section)), {{"kind", kind}, {"resources", list}});
      if (!id) return std::unexpected(id.error());
      if (for_research(section)) research.insert(research.end(), list.begin(), list.end());
      ++entries;
      if (progress) progress(entries, split.sections.size());
    }
  } else {
    for (std::size_t i = 0; i < resources.size(); ++i) {
      fhir::Section section{};
      if (i < sections.size()) {
        section = sections[i];
      } else {
        auto split = fhir::SplitResources({resources[i]});
        if (split.sections.size() != 1)
          return Fail(ErrorCode::kInvalidArgument, "a resource without a section");
        section = split.sections.begin()->first;
      }
      auto id = AddEntry(std::string(fhir::SectionName(section)),
                         {{"kind", kind}, {"resources", nlohmann::json::array({resources[i]})}});
      if (!id) return std::unexpected(id.error());
      if (for_research(section)) research.push_back(resources[i]);
      ++entries;
      if (progress) progress(entries, resources.size());
    }
  }
  auto copy = WriteResearchCopy(research, kind);
  if (!copy) return std::unexpected(copy.error());
  return entries + *copy;
}

namespace {

// FHIR's Attachment.contentType from the file name; DocumentReferences with image, video, audio
// or DICOM content are filed under attachments, others under notes (fhir::SectionOf).
std::string ContentTypeOf(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string> kTypes = {
      {".dcm", "application/dicom"}, {".png", "image/png"},  {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".tif", "image/tiff"}, {".tiff", "image/tiff"},
      {".pdf", "application/pdf"},   {".mp4", "video/mp4"},  {".wav", "audio/wav"},
      {".txt", "text/plain"}};
  auto it = kTypes.find(ext);
  return it != kTypes.end() ? it->second : "application/octet-stream";
}

}  // namespace

Result<std::vector<nlohmann::json>> ReadPatientResources(const std::string& bundle,
                                                         const std::string& patient,
                                                         const std::vector<std::string>& more) {
  if (!bundle.empty()) {
    auto b = ReadJsonFile(bundle);
    if (!b) return std::unexpected(b.error());
    auto list = fhir::BundleResources(*b);
    if (!list) return Fail(list.error().code(), bundle + ": " + list.error().message());
    return list;
  }
  std::vector<nlohmann::json> out;
  auto p = ReadJsonFile(patient);
  if (!p) return std::unexpected(p.error());
  if (!p->is_object() || p->value("resourceType", "") != "Patient")
    return Fail(ErrorCode::kInvalidArgument, patient + ": not a FHIR Patient");
  out.push_back(std::move(*p));
  for (const auto& f : more) {
    auto r = ReadJsonFile(f);
    if (!r) return std::unexpected(r.error());
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::unique_ptr<ChartWriter>> OpenWriter(ServerPort& server, const Identity& identity,
                                                const std::vector<abe::TrustedRoot>& roots,
                                                fhir::PolicyFile policies, const std::string& patient_id,
                                                std::vector<std::string>& warnings) {
  auto dir = LoadDirectory(server, roots, patient_id, warnings);
  if (!dir) return std::unexpected(dir.error());
  return std::make_unique<ChartWriter>(server, patient_id, identity.account.user_id, identity.wallet.id(),
                                       std::move(*dir), std::move(policies), identity.account.organisation,
                                       &identity.wallet.keys);
}

nlohmann::json AttachmentReference(const AttachmentRef& ref, const std::filesystem::path& file,
                                   const nlohmann::json& about, std::string_view kind) {
  using nlohmann::json;
  json docref = {{"resourceType", "DocumentReference"},
                 {"id", ref.record_id.substr(protocol::kAttachmentPrefix.size())},
                 {"status", "current"},
                 {"description", "attachment of a " + std::string(kind)},
                 {"content", json::array({{{"attachment",
                                            {{"contentType", ContentTypeOf(file)},
                                             {"url", std::string(kAttachmentUrlPrefix) + ref.record_id},
                                             {"size", ref.size},
                                             {"hash", ref.sha1_base64},
                                             {"title", file.filename().string()}}}}})}};
  if (about.contains("subject")) docref["subject"] = about["subject"];
  if (about.contains("id") && about["id"].is_string() && about.contains("resourceType") &&
      about["resourceType"].is_string())
    docref["context"] = {
        {"related", json::array({{{"reference", about["resourceType"].get<std::string>() + "/" +
                                                    about["id"].get<std::string>()}}})}};
  return docref;
}

}  // namespace cipherchart::chart
