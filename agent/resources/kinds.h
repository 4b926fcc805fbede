// kinds.h: the constructors of the kinds whose behaviour is built, one file each.
#pragma once

#include "agent/resources/resource.h"

#include <memory>

namespace mgmt::agent::resources {

std::unique_ptr<Resource> make_print();
std::unique_ptr<Resource> make_noop();
std::unique_ptr<Resource> make_test();
std::unique_ptr<Resource> make_file();
std::unique_ptr<Resource> make_exec();
std::unique_ptr<Resource> make_timer();
std::unique_ptr<Resource> make_line();
std::unique_ptr<Resource> make_group();
std::unique_ptr<Resource> make_user();
std::unique_ptr<Resource> make_hostname();
std::unique_ptr<Resource> make_pkg();
std::unique_ptr<Resource> make_svc();
std::unique_ptr<Resource> make_kv();
std::unique_ptr<Resource> make_msg();
std::unique_ptr<Resource> make_mount();
std::unique_ptr<Resource> make_value();
std::unique_ptr<Resource> make_schedule();

}  // namespace mgmt::agent::resources
