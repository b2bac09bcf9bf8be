#pragma once
// edge/api/streams.h: the DynamoDB Streams JSON protocol
// (`X-Amz-Target: DynamoDBStreams_20120810.<Operation>`), answered by the
// same `POST /` route as the DynamoDB protocol (edge/api/api.cc dispatches on
// the target prefix), so that boto3's `dynamodbstreams` client works
// unchanged against the endpoint of the `dynamodb` client.
//
// The stream of a table is its change log (edge/storage ChangeRecord):
//  - One stream per table life: the ARN is the table ARN plus
//    "/stream/<created_ms>", the label <created_ms>, exactly what
//    DescribeTable returns as LatestStreamArn / LatestStreamLabel. A table
//    whose stream is disabled (StreamViewType NONE) has no stream: its ARN
//    answers ResourceNotFoundException.
//  - One shard per stream, always open (no EndingSequenceNumber), id
//    "shardId-<created_ms, 20 digits>-00000001".
//  - Sequence numbers are the change log sequences, as decimal strings
//    zero-padded to kSequenceNumberDigits so that they sort as strings too.
//    The stream holds every retained change record of the table, including
//    those written before the stream was enabled. Its first retained
//    sequence is Storage::TrimmedSeq() + 1 (the shard's
//    StartingSequenceNumber).
//  - Records carry eventID (the sequence), eventName INSERT / MODIFY /
//    REMOVE, eventVersion "1.1", eventSource "aws:dynamodb", awsRegion, and
//    dynamodb {ApproximateCreationDateTime (the change's version time, epoch
//    seconds), Keys, NewImage / OldImage as the table's current
//    StreamViewType says, SequenceNumber, SizeBytes (DynamoDB item size of
//    the keys and images), StreamViewType}. A TTL delete carries
//    userIdentity {Type "Service", PrincipalId "dynamodb.amazonaws.com"}.
//  - Shard iterators are strings (opaque to clients) naming the stream and
//    the position; they expire kIteratorLifetimeMs after GetShardIterator
//    issued them or GetRecords returned them (ExpiredIteratorException).
//    An iterator whose position is below the trimmed horizon answers
//    TrimmedDataAccessException.
//  - GetRecords examines at most kGetRecordsScanMax change sequences per
//    call (other tables' records included), so it may return fewer records
//    than Limit, or none, with a NextShardIterator: as DynamoDB, readers
//    keep calling with NextShardIterator.
//
// Threads: the operations run concurrently on the server's workers; they
// only read storage.

#include <cstdint>

#include "edge/api/internal/ops.h"

namespace edgetable::api::internal {

inline constexpr int kSequenceNumberDigits = 21;
inline constexpr int64_t kIteratorLifetimeMs = 15 * 60 * 1000;
inline constexpr int kGetRecordsLimitMax = 1000;       // DynamoDB's bound of Limit
inline constexpr int64_t kGetRecordsScanMax = 10'000;  // change sequences examined per GetRecords
inline constexpr int kListStreamsLimitMax = 100;

// The target prefix of the Streams protocol.
inline constexpr std::string_view kStreamsTargetPrefix = "DynamoDBStreams_20120810.";

// Each returns the response body, or: ValidationException (bad parameters,
// a malformed iterator or sequence number), ResourceNotFoundException (no
// such stream or shard), ExpiredIteratorException, TrimmedDataAccessException,
// storage errors mapped by ErrorFromStatus.
Reply ListStreams(OpEnv& env, const Json& req);
Reply DescribeStream(OpEnv& env, const Json& req);
Reply GetShardIterator(OpEnv& env, const Json& req);
Reply GetRecords(OpEnv& env, const Json& req);

}  // namespace edgetable::api::internal
