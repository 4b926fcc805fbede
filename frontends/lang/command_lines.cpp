// command_lines.cpp: see command_lines.h.
#include "frontends/lang/command_lines.h"

#include "agent/resources/command.h"
#include "common/log.h"

#include <poll.h>
#include <cerrno>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace mgmt::frontends::lang {

CommandLines::~CommandLines() {
  set_on_line(nullptr);
  std::map<std::string, std::unique_ptr<Process>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(sites_);
  }
  for (auto& [site, p] : all) stop(p);
}

void CommandLines::set_on_line(std::function<void(const std::string&)> on_line) {
  std::string replay;
  {
    std::lock_guard calling(callback_mutex_);
    std::lock_guard lock(mutex_);
    on_line_ = std::move(on_line);
    if (on_line_) {
      for (auto& [site, p] : sites_) {
        if (p->unread) replay = p->cmd;
      }
    }
  }
  if (!replay.empty()) {
    std::lock_guard calling(callback_mutex_);
    if (on_line_) on_line_(replay);
  }
}

std::string CommandLines::latest(const std::string& site, const std::string& cmd) {
  std::unique_lock lock(mutex_);
  auto it = sites_.find(site);
  if (it != sites_.end() && it->second->cmd != cmd) {
    auto old = std::move(it->second);
    sites_.erase(it);
    lock.unlock();
    stop(old);
    lock.lock();
    it = sites_.find(site);
  }
  if (it == sites_.end()) {
    auto p = std::make_unique<Process>();
    p->cmd = cmd;
    it = sites_.emplace(site, std::move(p)).first;
    start(*it->second, site);
  }
  Process* p = it->second.get();
  if (!p->has_line && !p->ended) {
    p->waiting = true;
    changed_.wait_for(lock, first_line_wait_, [&] { return p->has_line || p->ended; });
    p->waiting = false;
  }
  p->unread = false;
  return p->line;
}

void CommandLines::retain(const std::set<std::string>& sites) {
  std::vector<std::unique_ptr<Process>> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sites_.begin(); it != sites_.end();) {
      if (sites.count(it->first)) {
        ++it;
      } else {
        gone.push_back(std::move(it->second));
        it = sites_.erase(it);
      }
    }
  }
  for (auto& p : gone) stop(p);
}

// Called with mutex_ held.
void CommandLines::start(Process& p, const std::string& site) {
  agent::resources::Command c;
  c.cmd = p.cmd;  // through /bin/sh -c, in a process group of its own
  int out_fd = -1;
  int err_fd = -1;
  p.pid = agent::resources::spawn(c, &out_fd, &err_fd);
  if (p.pid < 0) {
    log::get("lang")->error("os.system at {}: cannot start \"{}\"", site, p.cmd);
    p.ended = true;
    return;
  }
  p.reader = std::thread([this, proc = &p, out_fd, err_fd, cmd = p.cmd] {
    read_lines(proc, out_fd, err_fd, cmd);
  });
}

void CommandLines::read_lines(Process* p, int out_fd, int err_fd, std::string cmd) {
  std::string out_buffer;
  std::string err_buffer;
  std::vector<pollfd> fds = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  char chunk[4096];
  auto on_stdout_line = [&](std::string line) {
    bool notify = false;
    {
      std::lock_guard lock(mutex_);
      notify = !p->waiting;  // a caller waiting for its first line needs no second run
      p->line = std::move(line);
      p->has_line = true;
      p->unread = true;
    }
    changed_.notify_all();
    if (notify) {
      std::lock_guard calling(callback_mutex_);
      if (on_line_) on_line_(cmd);
    }
  };
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      std::string& buffer = i == 0 ? out_buffer : err_buffer;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        if (!buffer.empty()) {
          if (i == 0) on_stdout_line(buffer);
          else log::get("lang")->info("os.system: \"{}\": stderr: {}", cmd, buffer);
          buffer.clear();
        }
        continue;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        if (i == 0) on_stdout_line(std::move(line));
        else log::get("lang")->info("os.system: \"{}\": stderr: {}", cmd, line);
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    p->ended = true;
  }
  changed_.notify_all();
}

void CommandLines::stop(std::unique_ptr<Process>& p) {
  if (!p) return;
  if (p->pid > 0) {
    ::kill(-p->pid, SIGKILL);
    int status = 0;
    while (::waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (p->reader.joinable()) p->reader.join();
  p.reset();
}

}  // namespace mgmt::frontends::lang
