# Turn a file into C data: run as `cmake -DIN=page.html -DOUT=data.c
# -DNAME=gw_admin_page -P embed.cmake`. Writes
#   const unsigned char NAME[];  the bytes (not NUL-terminated)
#   const size_t NAME_len;
#   const char NAME_etag[];      a strong ETag: a quoted SHA-256 prefix
# The output is rewritten only when its text changes, so an unchanged page
# rebuilds nothing.
file(READ "${IN}" hex HEX)
file(SHA256 "${IN}" sha)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(SUBSTRING "${sha}" 0 32 tag)
# 16 bytes a line: "0x3c, 0x21, ..." (CMake's regexes have no {16}).
string(REPEAT "[0-9a-f][0-9a-f]" 16 line)
string(REGEX REPLACE "(${line})" "\\1\n" hex "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1, " bytes "${hex}")
string(REPLACE "\n" "\n\t" bytes "${bytes}")
get_filename_component(src "${IN}" NAME)
set(text "/* Generated from gateway/admin/${src} by gateway/admin/embed.cmake: do not edit. */\n")
string(APPEND text "#include <stddef.h>\n\n")
string(APPEND text "const unsigned char ${NAME}[] = {\n\t${bytes}\n};\n")
string(APPEND text "const size_t ${NAME}_len = ${len};\n")
string(APPEND text "const char ${NAME}_etag[] = \"\\\"${tag}\\\"\";\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
