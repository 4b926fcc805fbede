// builtins_json.h: encoding.decode_json and encoding.decode_json_flexible: JSON text to an
// mcl value, shaped by an mcl type given as a string ("struct{hello int;}", "map{str: int}",
// "[]str") or, without one, by the JSON itself. decode_json wants every struct field present;
// the flexible one gives missing fields their zero value and ignores extra ones.
#pragma once

#include "frontends/lang/value.h"

#include <map>
#include <string>

namespace mgmt::frontends::lang {

void add_json_builtins(std::map<std::string, Func>& table);

}  // namespace mgmt::frontends::lang
