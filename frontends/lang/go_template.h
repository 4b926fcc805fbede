// go_template.h: the part of Go's text/template that mcl's golang.template offers: text and
// actions {{ pipeline }}; {{ range PIPELINE }} and {{ range $k, $v := PIPELINE }} over lists
// and maps (by key); {{ if PIPELINE }}...{{ else }}...{{ end }}; terms `.`, `.Field.Sub` (a
// struct field written capitalised, .Name for mcl's name, or a map key), `$var`, string and
// number literals and ( pipeline ); calls `index X K...`, `len X`, and mcl functions by the
// reference's template names (golang_strings_join is golang/strings.join). A missing map key
// is an error, as mgmt runs templates with missingkey=error.
// Thread-safety: free function; builtins are read-only.
#pragma once

#include "common/result.h"
#include "frontends/lang/value.h"

#include <string>

namespace mgmt::frontends::lang {

// The expanded text, or "errStream: golang.template: ..." on a bad template or value.
[[nodiscard]] Result<Value> run_go_template(const std::string& text, const Value& data);

}  // namespace mgmt::frontends::lang
