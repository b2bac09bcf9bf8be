#pragma once
// WorkerPool: a fixed set of threads running queued jobs in FIFO order.
// The queue is unbounded here; its bound comes from the caller (the server
// has at most one job per connection, so at most connections_max queued).
// Threads: Submit() from any thread; Stop() from the owner, once.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgetable::net::internal {

class WorkerPool {
 public:
  // Starts `threads` workers. REQUIRES: threads >= 1.
  explicit WorkerPool(int threads);
  // Stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues job. Returns false (job dropped) after Stop().
  bool Submit(std::function<void()> job);

  // Drops jobs not yet started, waits for running ones, joins the threads.
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace edgetable::net::internal
