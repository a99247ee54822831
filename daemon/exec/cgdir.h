/* What the docker and nsjail backends share about the cgroup directories
 * they make per daemon (<prefix><pid>). */
#ifndef SBX_CGDIR_H
#define SBX_CGDIR_H

/* Each entry of dir named <prefix><pid> whose daemon is gone (no such
 * process; never our own) is handed to rm(path, depth). */
void sbx_cgdir_remove_stale(const char *dir, const char *prefix,
			    void (*rm)(const char *path, int depth), int depth);

#endif
