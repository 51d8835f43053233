// One audit-log entry and its canonical encoding: the bytes that are hashed into the audit
// Merkle tree (merkle.h) and stored in AuditRow::entry (store.h). Format: docs/formats.md,
// "Audit log entries and signed tree heads".
//
// The encoding is compact JSON (RFC 8259) with the six keys in sorted order and no
// whitespace, e.g.
//   {"action":"record.fetch","actor":"u...","outcome":"ok","patient_id":"p...","target":"r1@3","time_ms":1700000000000}
// Strings are escaped minimally: `"` and `\` as \" and \\, U+0008/0009/000A/000C/000D as
// \b \t \n \f \r, other characters below U+0020 as \u00xx (lower-case hex), everything else
// (including U+007F and non-ASCII) as its UTF-8 bytes. This is also RFC 8785's form for
// these values, so the encoding is a function of the entry and an entry has one encoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cipherchart/common/error.h"

namespace cipherchart::server {

struct AuditEntry {
  std::int64_t time_ms = 0;  // unix milliseconds
  std::string actor;         // user id, or "" (an unauthenticated request)
  // "login", "register", "approve", "reject", "key.post", "key.fetch", "record.list",
  // "record.fetch", "record.append", "record.delete", "patient.create", "patient.enrol", ...
  std::string action;
  std::string patient_id;  // "" if the action concerns no patient
  std::string target;      // record id@version, package id, user id, or ""
  std::string outcome;     // "ok" or "denied:<http status>"

  bool operator==(const AuditEntry&) const = default;
};

// The canonical encoding. kInvalidArgument if a string field is not well-formed UTF-8
// (RFC 3629); the message names the field.
Result<std::vector<std::uint8_t>> EncodeAuditEntry(const AuditEntry& entry);

// The inverse: accepts exactly the byte strings EncodeAuditEntry produces. kInvalidEncoding,
// with a message naming the problem (not JSON, not an object, an unknown, missing or
// mistyped key, an integer out of range, or valid JSON in a non-canonical form such as extra
// whitespace, another key order or another escape), for anything else. Never throws (except
// std::bad_alloc).
Result<AuditEntry> DecodeAuditEntry(std::span<const std::uint8_t> bytes);

}  // namespace cipherchart::server
