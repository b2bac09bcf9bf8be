#pragma once
// Every limit EdgeTable enforces, in one place. DynamoDB's documented limits
// are kept as DynamoDB has them so that SDKs and applications see the same
// behaviour; the rest are EdgeTable's own bounds on memory and work.

#include <cstdint>

namespace edgetable::limits {

// --- DynamoDB's item model -------------------------------------------------
inline constexpr int64_t kItemBytesMax = 400 * 1024;          // whole item, DynamoDB rules
inline constexpr int64_t kPartitionKeyBytesMax = 2048;        // encoded value of the partition key
inline constexpr int64_t kSortKeyBytesMax = 1024;             // encoded value of the sort key
inline constexpr int kNumberDigitsMax = 38;                   // significant digits of an N
inline constexpr int kNumberExponentMin = -130;               // smallest magnitude 1E-130
inline constexpr int kNumberExponentMax = 125;                // magnitude below 1E+126
inline constexpr int kNestingDepthMax = 32;                   // M/L nesting, as DynamoDB
inline constexpr int kTableNameBytesMin = 3;
inline constexpr int kTableNameBytesMax = 255;
inline constexpr int kAttributeNameBytesMax = 64 * 1024;      // non-key attribute names

// --- DynamoDB's API --------------------------------------------------------
inline constexpr int kBatchWriteItemsMax = 25;
inline constexpr int kBatchGetKeysMax = 100;
inline constexpr int kTransactItemsMax = 100;
inline constexpr int64_t kTransactBytesMax = 4 * 1024 * 1024;
inline constexpr int64_t kQueryPageBytesMax = 1024 * 1024;    // Query/Scan page before filtering
inline constexpr int kListTablesLimitMax = 100;
inline constexpr int kScanSegmentsMax = 1'000'000;
inline constexpr int64_t kExpressionBytesMax = 4096;

// --- EdgeTable's own bounds ------------------------------------------------
inline constexpr int64_t kRequestBodyBytesMax = 16 * 1024 * 1024;  // HTTP body; larger gets 413
inline constexpr int64_t kRequestHeaderBytesMax = 64 * 1024;
inline constexpr int kWriteQueueDepthMax = 4096;              // pending writes; past it: kBusy
inline constexpr int kGroupCommitWritesMax = 1024;            // writes folded into one transaction
inline constexpr int64_t kGroupCommitBytesMax = 8 * 1024 * 1024;

static_assert(kTransactItemsMax <= kGroupCommitWritesMax,
              "a whole transaction must fit in one group commit");
static_assert(kItemBytesMax * 2 <= kGroupCommitBytesMax,
              "a group commit holds at least one maximal item with its old image");
static_assert(kItemBytesMax * kBatchWriteItemsMax < kRequestBodyBytesMax,
              "a full BatchWriteItem of maximal items fits in one request body");

}  // namespace edgetable::limits
