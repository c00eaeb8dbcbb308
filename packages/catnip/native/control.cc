#include "control.h"

#include <rte_alarm.h>
#include <rte_interrupts.h>
#include <unistd.h>

#include <condition_variable>
#include <exception>
#include <mutex>

namespace catnip {

namespace {

struct Job {
  const std::function<void()>* work;
  std::exception_ptr error;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

void RunJob(void* arg) {
  auto* job = static_cast<Job*>(arg);
  try {
    (*job->work)();
  } catch (...) {
    job->error = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(job->mu);
  job->done = true;
  job->cv.notify_all();
}

}  // namespace

void RunOnControlThread(const std::function<void()>& work) {
  // Already there (a driver callback), or no interrupt thread to ask: run here.
  if (rte_thread_is_intr()) {
    work();
    return;
  }
  Job job;
  job.work = &work;
  if (rte_eal_alarm_set(1, RunJob, &job) != 0) {
    work();
    return;
  }
  std::unique_lock<std::mutex> lock(job.mu);
  job.cv.wait(lock, [&] { return job.done; });
  if (job.error) std::rethrow_exception(job.error);
}

void QuiesceControlThread() {
  for (int i = 0; i < 3; i++) {
    RunOnControlThread([] {});
    usleep(2000);
  }
}

}  // namespace catnip
