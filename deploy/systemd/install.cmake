# Run by `cmake --install` (CMakeLists.txt here sets the SBX_* variables):
# the units with this install's paths, the sysusers.d group, and the
# configuration files unless they are there already (an operator's edits
# survive a reinstall). file(INSTALL) adds DESTDIR and the manifest entry.
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(unit_dir "${SBX_SYSTEMD_UNIT_DIR}")
if(NOT unit_dir)
  set(unit_dir "${prefix}/lib/systemd/system")
endif()
set(sysusers_dir "${SBX_SYSUSERS_DIR}")
if(NOT sysusers_dir)
  set(sysusers_dir "${prefix}/lib/sysusers.d")
endif()
set(SBX_BINDIR "${prefix}/bin")

file(MAKE_DIRECTORY "${SBX_SYSTEMD_WORK}")
foreach(unit sandboxd.service sandbox-gateway.service)
  configure_file("${SBX_SYSTEMD_SRC}/${unit}.in" "${SBX_SYSTEMD_WORK}/${unit}" @ONLY)
  file(INSTALL "${SBX_SYSTEMD_WORK}/${unit}" DESTINATION "${unit_dir}")
endforeach()
configure_file("${SBX_SYSTEMD_SRC}/sandboxd.sysusers" "${SBX_SYSTEMD_WORK}/sandboxd.conf" COPYONLY)
file(INSTALL "${SBX_SYSTEMD_WORK}/sandboxd.conf" DESTINATION "${sysusers_dir}")

foreach(conf sandboxd.env gateway.env config.toml)
  if(EXISTS "$ENV{DESTDIR}${SBX_CONFIG_DIR}/${conf}")
    message(STATUS "Kept: $ENV{DESTDIR}${SBX_CONFIG_DIR}/${conf}")
  else()
    configure_file("${SBX_SYSTEMD_SRC}/${conf}" "${SBX_SYSTEMD_WORK}/${conf}" @ONLY)
    file(INSTALL "${SBX_SYSTEMD_WORK}/${conf}" DESTINATION "${SBX_CONFIG_DIR}"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  endif()
endforeach()
