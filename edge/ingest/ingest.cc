#include "edge/ingest/ingest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "edge/base/log.h"
#include "edge/ingest/internal/mqtt_client.h"
#include "edge/ingest/internal/window.h"
#include "edge/item/key.h"
#include "edge/item/validate.h"

namespace edgetable::ingest {
namespace {

using internal::MqttConnection;
using internal::MqttMessage;

item::KeySchema DeadLetterSchema() {
  item::KeySchema s;
  s.partition = item::KeyAttribute{"topic", item::Type::kS};
  s.sort = item::KeyAttribute{"received_ms", item::Type::kN};
  return s;
}

std::string DescribeSchema(const item::KeySchema& s) {
  std::string out = s.partition.name + " (" + std::string(item::TypeName(s.partition.type)) + ")";
  if (s.sort) out += ", " + s.sort->name + " (" + std::string(item::TypeName(s.sort->type)) + ")";
  return out;
}

}  // namespace

// One message in flight: how many of its writes are still to commit.
struct MessageState {
  int conn = 0;
  int64_t writes = 0;
  std::atomic<int> remaining{0};
  std::atomic<int64_t> items{0};
  std::atomic<int64_t> dead_letters{0};
  // For turning a refused item into a dead letter in the retry path.
  std::string topic;
  std::string payload_head;
  int64_t payload_bytes = 0;
  int64_t held_bytes = 0;  // what the message holds in memory until committed
  int qos = 0;
  int64_t received_ms = 0;
  uint64_t ack_token = 0;  // MqttConnection::Ack once committed
};

// One item to commit.
struct Job {
  std::string table;
  std::shared_ptr<const item::Item> item;  // shared with the write's mutate function
  bool dead_letter = false;
  std::string rule_label;
  std::shared_ptr<MessageState> msg;
  Status last_error;
  int attempts = 0;
};

struct Connection {
  explicit Connection(internal::WindowLimits limits) : window(limits) {}
  std::unique_ptr<MqttConnection> client;
  std::mutex mu;
  std::condition_variable cv;
  internal::UncommittedWindow window;  // GUARDED_BY(mu)
};

struct Ingest::Impl {
  storage::Storage* storage = nullptr;
  Options options;
  std::map<std::string, item::KeySchema, std::less<>> schemas;  // table -> key schema
  std::vector<std::unique_ptr<Connection>> conns;
  std::atomic<uint64_t> arrival_seq{0};

  std::atomic<int64_t> received{0}, committed{0}, items_stored{0}, dead_lettered{0},
      unmatched{0}, storage_retries{0}, connects{0}, reconnects{0}, losses{0}, lag{0};

  // Writes whose commit failed, retried by the retry thread (which, unlike
  // the writer thread running the callbacks, may call Storage).
  std::mutex retry_mu;
  std::condition_variable retry_cv;
  std::deque<Job> retry_queue;  // GUARDED_BY(retry_mu)
  bool retry_stop = false;      // GUARDED_BY(retry_mu)
  std::thread retry_thread;

  std::mutex idle_mu;
  std::condition_variable idle_cv;  // notified when lag drops

  bool stopped = false;

  Status PrepareTable(const std::string& table, const item::KeySchema& schema,
                      const std::string& ttl_attribute, const std::string& label) {
    Result<storage::TableInfo> info = storage->DescribeTable(table);
    if (!info.ok() && info.status().code() == Status::Code::kNotFound) {
      storage::TableSettings settings;
      settings.ttl_attribute = ttl_attribute;
      Result<storage::TableInfo> created = storage->CreateTable(table, schema, settings);
      if (created.ok()) {
        ET_LOG_INFO("ingest: created table {} ({}{})", table, DescribeSchema(schema),
                    ttl_attribute.empty() ? "" : ", TTL attribute " + ttl_attribute);
        return Status::Ok();
      }
      if (created.status().code() != Status::Code::kAlreadyExists) {
        return created.status().WithPrefix(label + ": table: '" + table + "'");
      }
      info = storage->DescribeTable(table);
    }
    if (!info.ok()) return info.status().WithPrefix(label + ": table: '" + table + "'");
    if (!(info->key_schema == schema)) {
      return Status::InvalidArgument(label + ": table: '" + table + "' exists with key schema " +
                                     DescribeSchema(info->key_schema) + ", the rule needs " +
                                     DescribeSchema(schema));
    }
    if (!ttl_attribute.empty() && info->settings.ttl_attribute != ttl_attribute) {
      storage::TableSettings settings = info->settings;
      settings.ttl_attribute = ttl_attribute;
      Result<storage::TableInfo> updated = storage->UpdateTableSettings(table, settings);
      if (!updated.ok()) return updated.status().WithPrefix(label + ": table: '" + table + "'");
      ET_LOG_INFO("ingest: table {}: TTL attribute set to {}", table, ttl_attribute);
    }
    return Status::Ok();
  }

  item::Item DeadLetterItem(const MessageState& m, const std::string& reason,
                            const std::string& rule_label, uint64_t seq) {
    item::Item it;
    std::string topic = m.topic.substr(0, 1024);
    it["topic"] = item::Value::S(topic.empty() ? std::string("(empty)") : topic);
    std::string frac = std::to_string(seq % 1000000);
    frac.insert(0, 6 - frac.size(), '0');
    Result<item::Number> ms = item::Number::Parse(std::to_string(m.received_ms) + "." + frac);
    it["received_ms"] = item::Value::N(ms.ok() ? *ms : item::Number::FromInt(m.received_ms));
    if (!m.payload_head.empty()) it["payload"] = item::Value::B(m.payload_head);
    it["payload_bytes"] = item::Value::N(item::Number::FromInt(m.payload_bytes));
    it["payload_truncated"] =
        item::Value::Bool(m.payload_bytes > static_cast<int64_t>(m.payload_head.size()));
    it["reason"] = item::Value::S(reason.substr(0, 4096));
    it["rule"] = item::Value::S(rule_label);
    it["qos"] = item::Value::N(item::Number::FromInt(m.qos));
    return it;
  }

  // Queues one job, waiting while the storage queue is full.
  void Submit(Job job) {
    const item::KeySchema& schema = schemas.at(job.table);
    int64_t wait_ms = 1;
    while (true) {
      storage::Write w;
      w.table = job.table;
      w.key = item::KeyOf(*job.item, schema);
      w.fn = [it = job.item](const item::Item*) -> Result<storage::Decision> {
        return storage::Decision::Put(*it);
      };
      auto shared = std::make_shared<Job>(std::move(job));
      Status st = storage->ApplyAsync(std::move(w), [this, shared](Result<storage::WriteOutcome> r) {
        OnCommitted(std::move(*shared), r.status());
      });
      if (st.ok()) return;
      // kBusy: nothing was queued; the job is still ours.
      job = std::move(*shared);
      ++storage_retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      wait_ms = std::min<int64_t>(wait_ms * 2, 50);
    }
  }

  // On the storage writer thread: quick, no Storage calls.
  void OnCommitted(Job job, const Status& st) {
    if (!st.ok()) {
      job.last_error = st;
      std::lock_guard lock(retry_mu);
      retry_queue.push_back(std::move(job));
      retry_cv.notify_one();
      return;
    }
    MessageState& m = *job.msg;
    if (job.dead_letter) {
      m.dead_letters.fetch_add(1);
    } else {
      m.items.fetch_add(1);
    }
    if (m.remaining.fetch_sub(1) == 1) FinishMessage(m);
  }

  void FinishMessage(MessageState& m) {
    items_stored += m.items.load();
    dead_lettered += m.dead_letters.load();
    ++committed;
    Connection& c = *conns[static_cast<size_t>(m.conn)];
    if (m.ack_token != 0) c.client->Ack(m.ack_token);
    bool wake;
    {
      std::lock_guard lock(c.mu);
      c.window.Remove(m.writes, m.held_bytes);
      wake = c.window.Reopened();
    }
    // Only when the waiting receive thread may go on: one wake-up per half
    // window, not one per commit callback.
    if (wake) c.cv.notify_all();
    DropLag();
  }

  void DropLag() {
    {
      std::lock_guard lock(idle_mu);  // orders the decrement with Stop()'s wait
      --lag;
    }
    idle_cv.notify_all();
  }

  void RetryLoop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(retry_mu);
        retry_cv.wait(lock, [&] { return retry_stop || !retry_queue.empty(); });
        if (retry_queue.empty()) return;
        job = std::move(retry_queue.front());
        retry_queue.pop_front();
      }
      ++storage_retries;
      Status::Code code = job.last_error.code();
      bool item_refused = code == Status::Code::kInvalidArgument || code == Status::Code::kNotFound ||
                          code == Status::Code::kConditionFailed;
      if (item_refused && !job.dead_letter) {
        ET_LOG_WARN("ingest: {}: item refused by storage, dead-lettered: {}", job.msg->topic,
                    job.last_error.message());
        job.item = std::make_shared<const item::Item>(
            DeadLetterItem(*job.msg, "storage refused the item: " + job.last_error.message(), job.rule_label,
                           arrival_seq.fetch_add(1)));
        job.table = options.dead_letter_table;
        job.dead_letter = true;
      } else {
        if (job.attempts == 0 || job.attempts % 50 == 0) {
          ET_LOG_ERROR("ingest: {}: commit to {} failed, retrying: {}", job.msg->topic, job.table,
                       job.last_error.message());
        }
        int64_t wait_ms = std::min<int64_t>(int64_t{10} << std::min(job.attempts, 7), 1000);
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      }
      ++job.attempts;
      Submit(std::move(job));
    }
  }

  void OnMessage(int conn_index, MqttMessage&& msg) {
    ++received;
    ++lag;
    auto state = std::make_shared<MessageState>();
    state->conn = conn_index;
    state->topic = msg.topic;
    state->payload_bytes = msg.payload_bytes;
    state->payload_head = msg.payload.substr(0, static_cast<size_t>(kDeadLetterPayloadBytesMax));
    // The payload (the client hands over at most the head of an oversized
    // one) stands for the memory the message's items hold until committed.
    state->held_bytes = static_cast<int64_t>(msg.payload.size() + state->payload_head.size());
    state->qos = msg.qos;
    state->received_ms = options.clock->NowMs();
    state->ack_token = msg.ack_token;
    // The client hands over only the head of an oversized payload.
    Status oversized;
    if (msg.payload_bytes > kPayloadBytesMax || static_cast<int64_t>(msg.payload.size()) < msg.payload_bytes) {
      oversized = Status::InvalidArgument("payload is " + std::to_string(msg.payload_bytes) +
                                          " bytes, over the limit of " + std::to_string(kPayloadBytesMax));
    }

    std::vector<Job> jobs;
    bool matched = false;
    for (const Rule& rule : options.rules) {
      if (!TopicMatches(rule.filter, msg.topic)) continue;
      matched = true;
      Arrival arrival{state->received_ms, arrival_seq.fetch_add(1)};
      Result<std::vector<item::Item>> items =
          oversized.ok() ? MapMessage(rule, msg.topic, msg.payload, arrival) : Result<std::vector<item::Item>>(oversized);
      Status problem = items.status();
      if (items.ok()) {
        for (size_t i = 0; i < items->size() && problem.ok(); ++i) {
          Status v = item::ValidateItem((*items)[i], rule.key_schema);
          if (!v.ok()) {
            problem = items->size() > 1
                          ? Status::InvalidArgument("element [" + std::to_string(i) + "]: " + v.message())
                          : v;
          }
        }
      }
      if (!problem.ok()) {
        ET_LOG_DEBUG("ingest: {}: dead letter: {}", msg.topic, problem.message());
        Job j;
        j.table = options.dead_letter_table;
        j.item = std::make_shared<const item::Item>(
            DeadLetterItem(*state, problem.message(), rule.label, arrival_seq.fetch_add(1)));
        j.dead_letter = true;
        j.rule_label = rule.label;
        jobs.push_back(std::move(j));
        continue;
      }
      for (item::Item& it : *items) {
        Job j;
        j.table = rule.table;
        j.item = std::make_shared<const item::Item>(std::move(it));
        j.rule_label = rule.label;
        jobs.push_back(std::move(j));
      }
    }
    if (!matched) ++unmatched;
    if (jobs.empty()) {
      // Nothing to write (no rule matched, or an empty JSON array).
      if (state->ack_token != 0) conns[static_cast<size_t>(conn_index)]->client->Ack(state->ack_token);
      ++committed;
      DropLag();
      return;
    }

    Connection& c = *conns[static_cast<size_t>(conn_index)];
    state->writes = static_cast<int64_t>(jobs.size());
    {
      std::lock_guard lock(c.mu);
      c.window.Add(state->writes, state->held_bytes);
    }
    state->remaining = static_cast<int>(jobs.size());
    for (Job& j : jobs) {
      j.msg = state;
      Submit(std::move(j));
    }
    // (2) of ingest.h: do not read the next message while the window is full,
    // in messages, items or bytes (with Paho, returning would also
    // acknowledge it). Once full, wait until half of it has committed.
    std::unique_lock lock(c.mu);
    if (c.window.Full()) c.cv.wait(lock, [&] { return c.window.Reopened(); });
  }
};

Ingest::Ingest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ingest::~Ingest() { Stop(); }

Result<std::unique_ptr<Ingest>> Ingest::Start(storage::Storage* storage, Options options) {
  const MqttOptions* given = &options.mqtt;
  if (given->broker.rfind("tcp://", 0) != 0 && given->broker.rfind("ssl://", 0) != 0 &&
      given->broker.rfind("mqtt://", 0) != 0 && given->broker.rfind("mqtts://", 0) != 0) {
    return Status::InvalidArgument("mqtt.broker: '" + given->broker +
                                   "' is not tcp://HOST:PORT or ssl://HOST:PORT");
  }
  const MqttOptions& mo = *given;
  if (options.rules.empty()) return Status::InvalidArgument("ingest: no rules");
  if (mo.connections < 1 || mo.connections > kConnectionsMax) {
    return Status::InvalidArgument("mqtt.connections: must be 1 to " + std::to_string(kConnectionsMax));
  }
  if (mo.uncommitted_max < 1 || mo.uncommitted_max > kUncommittedMax) {
    return Status::InvalidArgument("mqtt.uncommitted_max: must be 1 to " + std::to_string(kUncommittedMax));
  }
  if (mo.qos < 0 || mo.qos > 1) return Status::InvalidArgument("mqtt.qos: must be 0 or 1");
  if (mo.client != "builtin" && mo.client != "paho") {
    return Status::InvalidArgument("mqtt.client: '" + mo.client + "' is not \"builtin\" or \"paho\"");
  }
  ET_RETURN_IF_ERROR(CheckRulesAgree(options.rules));

  auto impl = std::make_unique<Impl>();
  impl->storage = storage;
  impl->options = std::move(options);
  Impl& s = *impl;
  const MqttOptions& mqtt = s.options.mqtt;

  // Tables first: a rule that cannot be served stops start-up.
  std::set<std::string> prepared;
  for (const Rule& r : s.options.rules) {
    std::string ttl_attr;
    for (const Rule& o : s.options.rules) {
      if (o.table == r.table && o.ttl_s > 0) ttl_attr = o.ttl_attribute;
    }
    s.schemas[r.table] = r.key_schema;
    if (!prepared.insert(r.table).second) continue;
    ET_RETURN_IF_ERROR(s.PrepareTable(r.table, r.key_schema, ttl_attr, r.label));
  }
  if (s.schemas.count(s.options.dead_letter_table) != 0) {
    return Status::InvalidArgument("ingest: the dead-letter table '" + s.options.dead_letter_table +
                                   "' is also a rule's table");
  }
  s.schemas[s.options.dead_letter_table] = DeadLetterSchema();
  ET_RETURN_IF_ERROR(s.PrepareTable(s.options.dead_letter_table, DeadLetterSchema(), "",
                                    "ingest.dead_letter_table"));

  std::vector<std::string> filters;
  for (const Rule& r : s.options.rules) {
    if (std::find(filters.begin(), filters.end(), r.filter) == filters.end()) filters.push_back(r.filter);
  }
  bool tls = mqtt.broker.rfind("ssl://", 0) == 0 || mqtt.broker.rfind("mqtts://", 0) == 0;
  for (int i = 0; i < mqtt.connections; ++i) {
    internal::MqttConnectionOptions co;
    co.kind = mqtt.client == "paho" ? internal::MqttClientKind::kPaho : internal::MqttClientKind::kBuiltin;
    co.payload_keep_max = kPayloadBytesMax;
    co.payload_head_bytes = kDeadLetterPayloadBytesMax;
    co.server_uri = mqtt.broker;
    co.client_id = i == 0 ? mqtt.client_id : mqtt.client_id + "-" + std::to_string(i);
    co.username = mqtt.username;
    co.password = mqtt.password;
    co.tls = tls;
    co.ca_file = mqtt.ca_file;
    co.cert_file = mqtt.cert_file;
    co.key_file = mqtt.key_file;
    co.key_password = mqtt.key_password;
    co.tls_verify = mqtt.tls_verify;
    co.keepalive_s = mqtt.keepalive_s;
    co.reconnect_min_ms = mqtt.reconnect_min_ms;
    co.reconnect_max_ms = mqtt.reconnect_max_ms;
    co.qos = mqtt.qos;
    for (const std::string& f : filters) {
      co.filters.push_back(mqtt.connections > 1 ? "$share/" + mqtt.client_id + "/" + f : f);
    }
    internal::MqttEvents ev;
    Impl* raw = &s;
    ev.on_message = [raw, i](MqttMessage&& m) { raw->OnMessage(i, std::move(m)); };
    ev.on_connected = [raw, id = co.client_id, ever = std::make_shared<std::atomic<bool>>(false)] {
      ++raw->connects;
      if (ever->exchange(true)) ++raw->reconnects;
      ET_LOG_INFO("ingest: mqtt client {} connected to {}", id, raw->options.mqtt.broker);
    };
    ev.on_lost = [raw, id = co.client_id](const std::string& cause) {
      ++raw->losses;
      ET_LOG_WARN("ingest: mqtt client {} lost its connection{}{}", id, cause.empty() ? "" : ": ", cause);
    };
    auto conn = std::make_unique<Connection>(
        internal::WindowLimits{mqtt.uncommitted_max, kUncommittedItemsMax, kUncommittedBytesMax});
    ET_ASSIGN_OR_RETURN(conn->client, MqttConnection::Create(std::move(co), std::move(ev)));
    s.conns.push_back(std::move(conn));
  }
  s.retry_thread = std::thread([raw = &s] { raw->RetryLoop(); });
  for (auto& c : s.conns) c->client->Start();
  ET_LOG_INFO("ingest: {} rule(s), {} connection(s) to {} ({} client), uncommitted_max {}", s.options.rules.size(),
              mqtt.connections, mqtt.broker, mqtt.client, mqtt.uncommitted_max);
  return std::unique_ptr<Ingest>(new Ingest(std::move(impl)));
}

void Ingest::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  for (auto& c : impl_->conns) c->client->Stop();
  // Every message taken from Paho is committed before the clients go away.
  {
    std::unique_lock lock(impl_->idle_mu);
    impl_->idle_cv.wait(lock, [&] { return impl_->lag.load() <= 0; });
  }
  {
    std::lock_guard lock(impl_->retry_mu);
    impl_->retry_stop = true;
  }
  impl_->retry_cv.notify_all();
  if (impl_->retry_thread.joinable()) impl_->retry_thread.join();
  impl_->conns.clear();
  IngestStats st = Stats();
  ET_LOG_INFO("ingest stopped: {} messages, {} items, {} dead letters, {} reconnects",
              st.messages_received, st.items_stored, st.dead_lettered, st.reconnects);
}

IngestStats Ingest::Stats() const {
  IngestStats st;
  const Impl& s = *impl_;
  st.messages_received = s.received.load();
  st.messages_committed = s.committed.load();
  st.items_stored = s.items_stored.load();
  st.dead_lettered = s.dead_lettered.load();
  st.unmatched = s.unmatched.load();
  st.storage_retries = s.storage_retries.load();
  st.connects = s.connects.load();
  st.reconnects = s.reconnects.load();
  st.connection_losses = s.losses.load();
  st.lag = s.lag.load();
  for (const auto& c : s.conns) st.connected += c->client->connected() ? 1 : 0;
  return st;
}

}  // namespace edgetable::ingest
