#pragma once
// sync/protocol: what the edge side (Client) and the hub side (Hub) of
// replication share: table directions, scopes, the skew policy, the names of
// the sync state entries and of the HTTP routes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgetable::sync {

// POST bodies are schemas/sync.fbs Messages, zstd-compressed or not.
inline constexpr std::string_view kPushPath = "/sync/v1/push";
inline constexpr std::string_view kPullPath = "/sync/v1/pull";
inline constexpr std::string_view kSnapshotPath = "/sync/v1/snapshot";
inline constexpr std::string_view kSyncContentType = "application/x-edgetable-sync";

// Tables whose name starts with this are the node's own records (dead
// letters, conflicts): never replicated.
inline constexpr std::string_view kLocalTablePrefix = "edgetable_";
inline constexpr std::string_view kConflictsTable = "edgetable_conflicts";

// Which way a table replicates between a node and its upstream.
enum class Direction : uint8_t {
  kBoth,  // push local changes up and pull the upstream's changes
  kUp,    // push only
  kDown,  // pull only (local writes stay local)
  kNone,  // not replicated
};
// "both", "up", "down", "none"; false for anything else.
bool ParseDirection(std::string_view text, Direction* out);
std::string_view DirectionName(Direction d);

// What a node does with a version stamped further ahead of its own clock
// than the skew bound (a gateway that booted with its clock in 2099).
enum class SkewPolicy : uint8_t {
  // The whole batch is refused with an error naming the change; nothing is
  // applied, the sender keeps it and retries (its operator fixes the clock).
  kRefuse,
  // The change is applied with its own version (every replica keeps the same
  // winner) but this node's clock is not dragged past now + bound.
  kClamp,
};
bool ParseSkewPolicy(std::string_view text, SkewPolicy* out);
std::string_view SkewPolicyName(SkewPolicy p);

// What a downstream peer may replicate through a hub (IAM's
// dynamodb:LeadingKeys for key_prefixes).
struct Scope {
  std::vector<std::string> tables;        // empty: every table
  std::vector<std::string> key_prefixes;  // empty: any key; else the partition
                                          // key (S, or B as bytes, or N as text)
                                          // must start with one of them
  bool AllowsTable(std::string_view table) const;
  bool AllowsPartitionKey(std::string_view key_text) const;
};

}  // namespace edgetable::sync
