// builtins_system.h: the core functions that read the machine and the clock: datetime (now,
// str_now, print, format, weekday, weekday_fast, hour), net (url_parser, wired_interface,
// interface_cidr), sys (load, uptime, env, hasenv), os (family checks, is_virtual, args,
// file_exists, user_exists, modinfo_loaded), deploy.binary_path and
// strings.substr. Registered into the
// builtins table by builtins.cpp. Values follow the reference: times are Unix seconds (int),
// weekdays lower-case English names, url_parser gives struct{scheme; host; path; raw_query}.
#pragma once

#include "frontends/lang/value.h"

#include <map>
#include <string>

namespace mgmt::frontends::lang {

void add_system_builtins(std::map<std::string, Func>& table);

}  // namespace mgmt::frontends::lang
