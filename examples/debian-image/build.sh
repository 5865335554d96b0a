#!/usr/bin/env bash
# Builds a minimal Debian disk image and reports every stage as a build status
# code through bscd (share/bscd/bsc.sh), the way Pieman does. Run as root:
#
#   sudo ENABLE_BSC_CHANNEL=true PROJECT_NAME=demo examples/debian-image/build.sh
#
# Parameters (environment variables) and the result: see README.md beside
# this file. Exit status: 0 success; 2 bad parameters or host not ready
# (checked before the build starts: no code is sent, nothing is created);
# any other non-zero status: the build failed (FAILED_CODE was sent).
#
# No loop device and no mount of the image: the partitions are formatted and
# filled inside the image file at their offsets (mkfs.fat --offset, mtools
# image@@offset, mke2fs -E offset=).
set -euo pipefail

readonly PROG=build.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

# This script's own lines go to the stderr it was started with, also when
# the EXIT trap runs while a tool's output is redirected to the log.
exec {STDERR_COPY}>&2
say() { printf '%s: %s\n' "${PROG}" "$*" >&"${STDERR_COPY}"; }
usage_error() {
    say "error: $*"
    exit 2
}

# --- Parameters --------------------------------------------------------------

PROJECT_NAME=${PROJECT_NAME:-$(cat /proc/sys/kernel/random/uuid)}
BUILD_DIR=${BUILD_DIR:-${PWD}/build/${PROJECT_NAME}}
SUITE=${SUITE:-bookworm}
ARCH=${ARCH:-$(dpkg --print-architecture)}
MIRROR=${MIRROR:-}
LOCALE=${LOCALE:-en_US.UTF-8}
TIME_ZONE=${TIME_ZONE:-Etc/UTC}
INCLUDES=${INCLUDES:-}
KERNEL=${KERNEL:-}
HOST_NAME=${HOST_NAME:-debian}
PASSWORD=${PASSWORD:-}
USER_NAME=${USER_NAME:-}
USER_PASSWORD=${USER_PASSWORD:-}
BOOT_SIZE=${BOOT_SIZE:-128}            # MiB, the FAT boot partition
ROOT_FREE_SPACE=${ROOT_FREE_SPACE:-128} # MiB left free in the root file system
CREATE_ONLY_CHROOT=${CREATE_ONLY_CHROOT:-false}
KEEP_CHROOT=${KEEP_CHROOT:-false}
PACKAGE_CACHE=${PACKAGE_CACHE:-}
ENABLE_BSC_CHANNEL=${ENABLE_BSC_CHANNEL:-false}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

# The kernel package Debian builds for each architecture's common machines.
default_kernel() {
    case $1 in
        amd64 | arm64 | s390x) echo "linux-image-$1" ;;
        i386) echo linux-image-686-pae ;;
        armhf) echo linux-image-armmp ;;
        armel) echo linux-image-marvell ;;
        ppc64el) echo linux-image-powerpc64le ;;
        mips64el) echo linux-image-5kc-malta ;;
        mipsel) echo linux-image-4kc-malta ;;
        *) return 1 ;;
    esac
}

# The Debian mirror the host's apt uses: the entry of SUITE, else the first
# plain Debian one (not security, not backports).
host_mirror() {
    local target_of uri release origin label first=""
    # shellcheck disable=SC2016 # apt's $(FIELD) placeholders, not the shell's
    local format='$(TARGET_OF)|$(REPO_URI)|$(RELEASE)|$(ORIGIN)|$(LABEL)'
    while IFS='|' read -r target_of uri release origin label; do
        [[ ${target_of} == deb ]] || continue
        if [[ -n ${label} ]]; then
            [[ ${origin} == Debian && ${label} == Debian ]] || continue
        else  # lists never downloaded: no Release file to tell, go by the names
            [[ ${release} != *-security && ${release} != *-backports* &&
                ${uri} != *security* ]] || continue
        fi
        if [[ ${release} == "${SUITE}" ]]; then
            echo "${uri}"
            return 0
        fi
        [[ -n ${first} ]] || first=${uri}
    done < <(apt-get indextargets --format "${format}" 2>/dev/null)
    [[ -n ${first} ]] || return 1
    echo "${first}"
}

is_true_or_false() { [[ $1 == true || $1 == false ]]; }
is_mib() { [[ $1 =~ ^[1-9][0-9]{0,5}$ ]]; }

validate_parameters() {
    # The project rule of bscd (src/core/project.cpp): it names the channel.
    [[ ${PROJECT_NAME} =~ ^[A-Za-z0-9._-]{1,128}$ && ${PROJECT_NAME} != *..* ]] ||
        usage_error "PROJECT_NAME '${PROJECT_NAME}': 1 to 128 letters, digits, '.', '_' or '-', no '..'"
    [[ ${BUILD_DIR} != *[[:space:]]* && -n ${BUILD_DIR} ]] ||
        usage_error "BUILD_DIR '${BUILD_DIR}' must not be empty nor contain white space"
    [[ ${SUITE} =~ ^[a-z][a-z0-9.-]*$ ]] || usage_error "SUITE '${SUITE}' is not a suite name"
    [[ ${ARCH} =~ ^[a-z0-9]+$ ]] || usage_error "ARCH '${ARCH}' is not a Debian architecture"
    if [[ -z ${KERNEL} ]]; then
        KERNEL=$(default_kernel "${ARCH}") ||
            usage_error "no default kernel package for ARCH ${ARCH}: set KERNEL (or KERNEL=none)"
    fi
    [[ ${KERNEL} == none || ${KERNEL} =~ ^[a-z0-9][a-z0-9.+-]+$ ]] ||
        usage_error "KERNEL '${KERNEL}' is not a package name (or none)"
    [[ -z ${INCLUDES} || ${INCLUDES} =~ ^[a-z0-9][a-z0-9.+-]+(,[a-z0-9][a-z0-9.+-]+)*$ ]] ||
        usage_error "INCLUDES '${INCLUDES}': comma-separated package names"
    [[ ${LOCALE} =~ ^[A-Za-z0-9_.@-]+$ ]] || usage_error "LOCALE '${LOCALE}' is not a locale name"
    [[ ${TIME_ZONE} =~ ^[A-Za-z0-9_+/-]+$ && ${TIME_ZONE} != *..* && ${TIME_ZONE} != /* ]] ||
        usage_error "TIME_ZONE '${TIME_ZONE}' is not a zone name such as Europe/Paris"
    [[ ${HOST_NAME} =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] ||
        usage_error "HOST_NAME '${HOST_NAME}': letters, digits and '-', at most 63"
    if [[ -n ${USER_NAME} ]]; then
        [[ ${USER_NAME} =~ ^[a-z_][a-z0-9_-]{0,31}$ && ${USER_NAME} != root ]] ||
            usage_error "USER_NAME '${USER_NAME}' is not a user name for a new user"
    fi
    [[ -z ${USER_PASSWORD} || -n ${USER_NAME} ]] || usage_error "USER_PASSWORD needs USER_NAME"
    [[ ${PASSWORD} != *[$'\n:']* && ${USER_PASSWORD} != *[$'\n:']* ]] ||
        usage_error "passwords must not contain ':' or a newline"
    if ! is_mib "${BOOT_SIZE}" || ((BOOT_SIZE < 64)); then
        usage_error "BOOT_SIZE '${BOOT_SIZE}': MiB, at least 64 (FAT32)"
    fi
    is_mib "${ROOT_FREE_SPACE}" || usage_error "ROOT_FREE_SPACE '${ROOT_FREE_SPACE}': MiB"
    local flag
    for flag in CREATE_ONLY_CHROOT KEEP_CHROOT ENABLE_BSC_CHANNEL; do
        is_true_or_false "${!flag}" || usage_error "${flag} '${!flag}': true or false"
    done
    if [[ -z ${MIRROR} ]]; then
        MIRROR=$(host_mirror) ||
            usage_error "no Debian mirror found in the host's apt sources" \
                "(apt-get indextargets): set MIRROR"
    fi
    [[ ${MIRROR} =~ ^(https?|ftp|file):/[^[:space:]]+$ ]] ||
        usage_error "MIRROR '${MIRROR}' is not a URL"
    BUILD_DIR=$(realpath -m -- "${BUILD_DIR}")
    [[ ${BUILD_DIR} != / ]] || usage_error "BUILD_DIR must not be /"
    if [[ -e ${BUILD_DIR} ]]; then
        [[ -d ${BUILD_DIR} && -z $(ls -A -- "${BUILD_DIR}") ]] ||
            usage_error "BUILD_DIR ${BUILD_DIR} exists and is not empty:" \
                "choose another PROJECT_NAME or BUILD_DIR, or remove it"
    fi
    if [[ -n ${PACKAGE_CACHE} ]]; then
        PACKAGE_CACHE=$(realpath -m -- "${PACKAGE_CACHE}")
        [[ ${PACKAGE_CACHE} != *[[:space:]]* ]] ||
            usage_error "PACKAGE_CACHE must not contain white space"
    fi
}

check_host() {
    ((EUID == 0)) || usage_error "run as root (debootstrap, chroot and mount need it)"
    local tool missing=()
    for tool in debootstrap chroot mount umount flock sfdisk mkfs.fat mcopy mke2fs truncate; do
        command -v "${tool}" >/dev/null || missing+=("${tool}")
    done
    ((${#missing[@]} == 0)) ||
        usage_error "missing on the host: ${missing[*]}" \
            "(Debian packages debootstrap dosfstools mtools fdisk e2fsprogs)"
}

# The archive answers, before anything starts: without it debootstrap would
# fail only after the channel announced a build. apt's own downloader: no
# curl or wget needed, and apt's proxy settings apply.
check_archive() {
    local scratch url=${MIRROR%/}/dists/${SUITE}/Release
    scratch=$(mktemp -d)
    if ! /usr/lib/apt/apt-helper download-file "${url}" "${scratch}/Release" \
        >"${scratch}/log" 2>&1; then
        say "error: cannot reach the Debian archive: ${url}:"
        grep '^E:' "${scratch}/log" | head -n 2 | sed 's/^/    /' >&2
        rm -rf -- "${scratch}"
        usage_error "the build needs a Debian archive (set MIRROR to one this machine reaches)"
    fi
    rm -rf -- "${scratch}"
}

# The channel: share/bscd/bsc.sh of this source tree, else the installed one.
# Without it and with the channel off, the four functions do nothing.
load_bsc_library() {
    local candidate
    if [[ -n ${BSC_LIBRARY:-} ]]; then
        [[ -r ${BSC_LIBRARY} ]] || usage_error "BSC_LIBRARY ${BSC_LIBRARY} is not readable"
        candidate=${BSC_LIBRARY}
    else
        for candidate in "${SCRIPT_DIR}/../../share/bscd/bsc.sh" /usr/share/bscd/bsc.sh \
            /usr/local/share/bscd/bsc.sh ""; do
            [[ -z ${candidate} || -r ${candidate} ]] && break
        done
    fi
    if [[ -n ${candidate} ]]; then
        # shellcheck source=share/bscd/bsc.sh  # (from the repository root, as scripts/lint.sh runs)
        . "${candidate}"
    elif [[ ${ENABLE_BSC_CHANNEL} == true ]]; then
        usage_error "ENABLE_BSC_CHANNEL=true but bsc.sh is not installed: set BSC_LIBRARY"
    else
        check_redis() { :; }
        start_bscd() { :; }
        send_request_to_bsc_server() { :; }
        stop_bscd() { :; }
    fi
}

# --- Build state and clean-up ------------------------------------------------

CHROOT=""               # paths in BUILD_DIR, set before the build starts
BOOT_STAGING=""
IMAGE=""
LOG_FILE=""
BUILD_STARTED=false     # bscd started: the build ends with 1000 or 1001
CREATED_BUILD_DIR=false
STAGE="starting"        # what the build is doing, for the failure message
STAGE_STARTED=${SECONDS}
FAILED_COMMAND=""       # the tool that failed, when quietly ran it
MOUNTED=()              # mount points this script mounted, in order
SUCCEEDED=false

# Tools' output goes to the log; this script's own lines go to stderr.
quietly() {
    "$@" >>"${LOG_FILE}" 2>&1 || {
        local status=$?
        FAILED_COMMAND=$*
        return "${status}"
    }
}

in_chroot() {
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
        chroot "${CHROOT}" "$@"
}

apt_in_chroot() {
    quietly in_chroot apt-get -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

mount_in_chroot() {  # mount_in_chroot TARGET MOUNT-ARGUMENTS...
    local target=${CHROOT}$1
    shift
    mkdir -p -- "${target}"
    mount "$@" "${target}"
    MOUNTED+=("${target}")
}

# Mount points at or under $1, deepest first (/proc/mounts escapes white
# space, which BUILD_DIR may not contain).
mounts_under() {
    awk -v dir="$1" '$2 == dir || index($2, dir "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# Package scripts must not leave daemons behind (policy-rc.d forbids them);
# kill any process whose root is the chroot anyway, or its mounts stay busy.
kill_chroot_processes() {
    local proc root
    for proc in /proc/[0-9]*; do
        root=$(readlink "${proc}/root" 2>/dev/null) || continue
        if [[ ${root} == "${CHROOT}" || ${root} == "${CHROOT}"/* ]]; then
            kill -KILL "${proc#/proc/}" 2>/dev/null || true
        fi
    done
}

unmount_all() {
    local i target
    [[ -n ${CHROOT} ]] || return 0
    kill_chroot_processes
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount -- "${MOUNTED[i]}" 2>/dev/null || umount --lazy -- "${MOUNTED[i]}" ||
            say "warning: could not unmount ${MOUNTED[i]}"
    done
    MOUNTED=()
    # Whatever else is mounted there: debootstrap's own proc and sys when it
    # was interrupted, or a package script's.
    while read -r target; do
        umount -- "${target}" 2>/dev/null || umount --lazy -- "${target}" ||
            say "warning: could not unmount ${target}"
    done < <(mounts_under "${CHROOT}")
    [[ -z $(mounts_under "${CHROOT}") ]]
}

# Removes a directory of this build, only when nothing is mounted in it, and
# never crossing into another file system.
remove_tree() {
    [[ -n $1 && -e $1 ]] || return 0
    if [[ -n $(mounts_under "$1") ]]; then
        say "warning: $1 still has mounts; left in place"
        return 1
    fi
    rm -rf --one-file-system -- "$1"
}

on_exit() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    exec 1>&"${STDERR_COPY}" 2>&"${STDERR_COPY}"
    if [[ ${BUILD_STARTED} == true ]]; then
        unmount_all
        if [[ ${SUCCEEDED} != true ]]; then
            ((status != 0)) || status=1
            say "FAILED while ${STAGE} after $((SECONDS - STAGE_STARTED)) s" \
                "(exit status ${status}${FAILED_COMMAND:+, command: ${FAILED_COMMAND}})"
            if [[ -s ${LOG_FILE} ]]; then
                say "last lines of ${LOG_FILE}:"
                tail -n 25 -- "${LOG_FILE}" | sed 's/^/    /' >&2
            fi
            if [[ -f ${CHROOT}/debootstrap/debootstrap.log ]]; then
                say "debootstrap's own log is appended to ${LOG_FILE}"
                cat -- "${CHROOT}/debootstrap/debootstrap.log" >>"${LOG_FILE}"
            fi
            # The build's products go; its log stays, to tell why.
            remove_tree "${CHROOT}"
            remove_tree "${BOOT_STAGING}"
            [[ -z ${IMAGE} ]] || rm -f -- "${IMAGE}"
            if [[ ${CREATED_BUILD_DIR} == true && ! -s ${LOG_FILE} ]]; then
                rm -f -- "${LOG_FILE}"
                rmdir -- "${BUILD_DIR}" 2>/dev/null
            fi
            # Cleaned up first, so that the final code means the machine is
            # in its final state (another build may start on it).
            send_request_to_bsc_server FAILED_CODE
        fi
    fi
    [[ ${BUILD_STARTED} != true ]] || stop_bscd
    exit "${status}"
}

stage() {  # stage TEXT: what the build does next
    STAGE=$1
    STAGE_STARTED=${SECONDS}
}

report() {  # report CODE_NAME VALUE TEXT: the stage is done
    say "$2 $3 ($((SECONDS - STAGE_STARTED)) s)"
    send_request_to_bsc_server "$1"
}

# --- Stages ------------------------------------------------------------------

prepare_chroot() {  # 10
    stage "preparing the chroot (debootstrap ${SUITE} ${ARCH} from ${MIRROR})"
    # Stages 20 and 21 configure locales and tzdata. systemd (init, and
    # networkd for stage 50) and udev come now, before the kernel: they add
    # to the initramfs, which is then generated once. apt in the chroot
    # reaches an https mirror only with the CA certificates.
    local include=locales,tzdata,systemd-sysv,udev
    [[ ${MIRROR} != https:* ]] || include+=,ca-certificates
    local options=(--variant=minbase "--arch=${ARCH}" "--include=${include}")
    [[ -z ${PACKAGE_CACHE} ]] || options+=("--cache-dir=${PACKAGE_CACHE}")
    quietly debootstrap "${options[@]}" "${SUITE}" "${CHROOT}" "${MIRROR}"
    report PREPARED_CHROOT_ENV_CODE 10 "chroot prepared in ${CHROOT}"
}

# The image's file systems, by the identities they will be made with. Written
# before the kernel is installed: the initramfs' fsck hook reads it.
write_fstab() {
    {
        echo "# <file system> <mount point> <type> <options> <dump> <pass>"
        echo "UUID=${ROOT_UUID} / ext4 errors=remount-ro 0 1"
        echo "UUID=${BOOT_VOLUME_ID:0:4}-${BOOT_VOLUME_ID:4:4} /boot/firmware vfat defaults,nofail 0 2"
    } >"${CHROOT}/etc/fstab"
    mkdir -p -- "${CHROOT}/boot/firmware"
}

# proc, sys and dev for the package scripts; the package cache as apt's
# archives. Undone in the clean-up stage, or by the EXIT trap.
mount_build_filesystems() {
    mount_in_chroot /proc -t proc proc
    mount_in_chroot /sys -t sysfs sysfs
    mount_in_chroot /dev --bind /dev
    mount_in_chroot /dev/pts --bind /dev/pts  # apt logs dpkg's output through a pty
    if [[ -n ${PACKAGE_CACHE} ]]; then
        mount_in_chroot /var/cache/apt/archives --bind "${PACKAGE_CACHE}"
    fi
    # No service starts in the chroot; dpkg need not fsync every file.
    printf '#!/bin/sh\nexit 101\n' >"${CHROOT}/usr/sbin/policy-rc.d"
    chmod 755 "${CHROOT}/usr/sbin/policy-rc.d"
    echo force-unsafe-io >"${CHROOT}/etc/dpkg/dpkg.cfg.d/bscd-build-unsafe-io"
}

set_up_locale() {  # 20
    stage "setting up locale ${LOCALE}"
    local entry
    entry=$(awk -v l="${LOCALE}" '$1 == l { print; exit }' \
        "${CHROOT}/usr/share/i18n/SUPPORTED")
    [[ -n ${entry} ]] || {
        say "locale ${LOCALE} is not in /usr/share/i18n/SUPPORTED"
        return 1
    }
    # Uncomment the locale in locale.gen, or add it.
    awk -v e="${entry}" '$0 == "# " e || $0 == e { if (!seen) print e; seen = 1; next }
        { print } END { if (!seen) print e }' "${CHROOT}/etc/locale.gen" \
        >"${CHROOT}/etc/locale.gen.new"
    mv -- "${CHROOT}/etc/locale.gen.new" "${CHROOT}/etc/locale.gen"
    quietly in_chroot locale-gen
    quietly in_chroot update-locale "LANG=${LOCALE}"
    report SET_UP_LOCALE_CODE 20 "locale ${LOCALE} set up"
}

set_up_time_zone() {  # 21
    stage "setting up time zone ${TIME_ZONE}"
    [[ -f ${CHROOT}/usr/share/zoneinfo/${TIME_ZONE} ]] || {
        say "time zone ${TIME_ZONE} is not in /usr/share/zoneinfo"
        return 1
    }
    ln -sfn "/usr/share/zoneinfo/${TIME_ZONE}" "${CHROOT}/etc/localtime"
    echo "${TIME_ZONE}" >"${CHROOT}/etc/timezone"
    quietly in_chroot dpkg-reconfigure --frontend=noninteractive tzdata
    report SET_UP_TIMEZONE_CODE 21 "time zone ${TIME_ZONE} set up"
}

update_indexes() {  # 30
    stage "updating the package indexes"
    echo "deb ${MIRROR} ${SUITE} main" >"${CHROOT}/etc/apt/sources.list"
    apt_in_chroot update
    report UPDATED_CODE 30 "package indexes updated"
}

install_packages() {  # 31
    stage "installing INCLUDES (${INCLUDES})"
    local packages
    IFS=, read -r -a packages <<<"${INCLUDES}"
    apt_in_chroot install "${packages[@]}"
    report INSTALLED_PACKAGES_CODE 31 "installed ${packages[*]}"
}

upgrade() {  # 32
    stage "upgrading"
    apt_in_chroot dist-upgrade
    report UPGRADED_CODE 32 "system upgraded"
}

install_kernel() {  # 33
    stage "installing the kernel (${KERNEL})"
    # The initramfs generator first, on its own: installed in the kernel's
    # transaction, its trigger makes the initramfs a second time. zstd is
    # its default compressor (a recommendation: without it, slower gzip).
    apt_in_chroot install initramfs-tools zstd
    apt_in_chroot install "${KERNEL}"
    report INSTALLED_KERNEL_CODE 33 "kernel ${KERNEL} installed"
}

# The partitions' identities, fixed before they exist: the boot configuration
# and fstab name them.
ROOT_UUID=""
BOOT_VOLUME_ID=""

prepare_boot_partition() {  # 40
    stage "preparing the boot partition"
    local kernel_file="" initrd_file="" version cmdline
    mkdir -p -- "${BOOT_STAGING}"
    cmdline="root=UUID=${ROOT_UUID} rootfstype=ext4 rootwait rw"
    # The newest kernel in /boot, and its initrd.
    kernel_file=$(find "${CHROOT}/boot" -maxdepth 1 -name 'vmlinu[xz]-*' -printf '%f\n' |
        sort -V | tail -n 1)
    if [[ -n ${kernel_file} ]]; then
        version=${kernel_file#vmlinu?-}
        cp -- "${CHROOT}/boot/${kernel_file}" "${BOOT_STAGING}/"
        if [[ -f ${CHROOT}/boot/initrd.img-${version} ]]; then
            initrd_file=initrd.img-${version}
            cp -- "${CHROOT}/boot/${initrd_file}" "${BOOT_STAGING}/"
        fi
        # U-Boot's distro boot reads /extlinux/extlinux.conf on the bootable
        # partition.
        mkdir -p -- "${BOOT_STAGING}/extlinux"
        {
            echo "# Written by ${PROG} for project ${PROJECT_NAME}"
            echo "DEFAULT debian"
            echo "TIMEOUT 30"
            echo "LABEL debian"
            echo "    MENU LABEL Debian ${SUITE} (${version})"
            echo "    KERNEL /${kernel_file}"
            [[ -z ${initrd_file} ]] || echo "    INITRD /${initrd_file}"
            echo "    APPEND ${cmdline}"
        } >"${BOOT_STAGING}/extlinux/extlinux.conf"
    else
        say "no kernel in /boot (KERNEL=${KERNEL}): the boot partition holds only cmdline.txt"
    fi
    # The kernel command line for firmware that loads the kernel itself.
    echo "${cmdline}" >"${BOOT_STAGING}/cmdline.txt"
    report PREPARED_BOOT_PARTITION_CODE 40 "boot partition prepared in ${BOOT_STAGING}"
}

set_up_networking() {  # 50
    stage "setting up networking"
    echo "${HOST_NAME}" >"${CHROOT}/etc/hostname"
    cat >"${CHROOT}/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	${HOST_NAME}
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
    # systemd-networkd (in systemd, installed by debootstrap) for DHCP,
    # systemd-resolved for DNS. resolved makes /etc/resolv.conf a link to
    # its stub, unusable in the chroot: nothing is downloaded after this.
    apt_in_chroot install systemd-resolved
    mkdir -p -- "${CHROOT}/etc/systemd/network"
    cat >"${CHROOT}/etc/systemd/network/80-wired-dhcp.network" <<'EOF'
# Every wired interface: address, route and DNS servers by DHCP.
[Match]
Type=ether
Name=en* eth*

[Network]
DHCP=yes
EOF
    quietly in_chroot systemctl enable systemd-networkd.service systemd-resolved.service
    report DONE_WITH_NETWORKING_CODE 50 "networking: host name ${HOST_NAME}, DHCP on wired interfaces"
}

set_up_users() {  # 60
    stage "setting up users"
    if [[ -n ${PASSWORD} ]]; then
        printf 'root:%s\n' "${PASSWORD}" | in_chroot chpasswd
    else
        quietly in_chroot passwd --lock root
    fi
    if [[ -n ${USER_NAME} ]]; then
        quietly in_chroot useradd --create-home --shell /bin/bash "${USER_NAME}"
        if [[ -n ${USER_PASSWORD} ]]; then
            printf '%s:%s\n' "${USER_NAME}" "${USER_PASSWORD}" | in_chroot chpasswd
        fi
    fi
    report DONE_WITH_USERS_CODE 60 \
        "users: root $([[ -n ${PASSWORD} ]] && echo "with a password" || echo locked)${USER_NAME:+, ${USER_NAME}}"
}

clean_up() {  # 70
    stage "cleaning up"
    # The shared package cache is unmounted before apt-get clean empties
    # the chroot's own archives.
    unmount_all
    rm -f -- "${CHROOT}/usr/sbin/policy-rc.d" "${CHROOT}/etc/dpkg/dpkg.cfg.d/bscd-build-unsafe-io"
    quietly in_chroot apt-get clean
    find "${CHROOT}/var/lib/apt/lists" -mindepth 1 -delete
    rm -f -- "${CHROOT}"/var/cache/apt/*.bin "${CHROOT}"/var/cache/debconf/*-old \
        "${CHROOT}"/var/lib/dpkg/*-old "${CHROOT}/root/.bash_history"
    find "${CHROOT}/tmp" "${CHROOT}/var/tmp" -mindepth 1 -delete
    find "${CHROOT}/var/log" -type f -exec truncate --size=0 -- {} +
    # Each machine makes its own identity at first boot.
    if [[ -e ${CHROOT}/etc/machine-id ]]; then
        : >"${CHROOT}/etc/machine-id"
    fi
    rm -f -- "${CHROOT}/var/lib/dbus/machine-id"
    # The host's resolver, copied by debootstrap, unless resolved took over.
    if [[ ! -L ${CHROOT}/etc/resolv.conf ]]; then
        : >"${CHROOT}/etc/resolv.conf"
    fi
    report DONE_WITH_CLEAN_UP_CODE 70 "caches and indexes removed"
}

# Partition layout, in 512-byte sectors: 1 MiB for the partition table and
# alignment, the FAT boot partition, then the ext4 root partition.
readonly SECTORS_PER_MIB=2048
BOOT_START=$((1 * SECTORS_PER_MIB))
ROOT_START=0
ROOT_SIZE=0  # MiB

create_image() {  # 80
    stage "creating the image"
    local used
    used=$(du --summarize --one-file-system --block-size=1M -- "${CHROOT}" | cut -f1)
    # ext4 needs room for its inode tables, journal and metadata besides the
    # data: a tenth of it and 64 MiB, plus the free space asked for.
    ROOT_SIZE=$((used + used / 10 + 64 + ROOT_FREE_SPACE))
    ROOT_START=$((BOOT_START + BOOT_SIZE * SECTORS_PER_MIB))
    truncate --size=$(((ROOT_START / SECTORS_PER_MIB + ROOT_SIZE) * 1024 * 1024)) -- "${IMAGE}"
    quietly sfdisk --no-reread --no-tell-kernel "${IMAGE}" <<EOF
label: dos
unit: sectors
start=${BOOT_START}, size=$((BOOT_SIZE * SECTORS_PER_MIB)), type=c, bootable
start=${ROOT_START}, size=$((ROOT_SIZE * SECTORS_PER_MIB)), type=83
EOF
    report CREATED_IMAGE_CODE 80 \
        "image ${IMAGE} created: boot ${BOOT_SIZE} MiB FAT32, root ${ROOT_SIZE} MiB ext4"
}

format_root() {  # format_root [mke2fs options...]
    quietly mke2fs -F -t ext4 -b 4096 -L rootfs -U "${ROOT_UUID}" \
        -E "offset=$((ROOT_START * 512))" "$@" "${IMAGE}" "${ROOT_SIZE}M"
}

format_partitions() {  # 81
    stage "formatting the partitions"
    # FAT32 needs at least 65525 clusters (with fewer, mtools and firmware
    # take it for FAT16): the largest cluster, up to 32 KiB, that leaves
    # enough. mkfs.fat's own choice goes by the whole image's size.
    local sectors_per_cluster=64
    while ((sectors_per_cluster > 1 &&
        BOOT_SIZE * SECTORS_PER_MIB / sectors_per_cluster < 70000)); do
        sectors_per_cluster=$((sectors_per_cluster / 2))
    done
    quietly mkfs.fat -F 32 -s "${sectors_per_cluster}" -n BOOT -i "${BOOT_VOLUME_ID}" \
        --offset="${BOOT_START}" "${IMAGE}" $((BOOT_SIZE * 1024))
    format_root
    report FORMATTED_PARTITION_CODE 81 "partitions formatted"
}

sync_partitions() {  # 82
    stage "syncing the chroot into the image"
    [[ -z $(mounts_under "${CHROOT}") ]] || {
        say "something is still mounted in ${CHROOT}"
        return 1
    }
    MTOOLS_SKIP_CHECK=1 quietly mcopy -s -p -m -i "${IMAGE}@@$((BOOT_START * 512))" \
        "${BOOT_STAGING}"/* ::/
    # mke2fs -d is the only Debian tool that fills an ext4 file system
    # without mounting it, and it does so while creating one: the root
    # partition formatted at 81 is made again here, with the same UUID and
    # label, from the chroot.
    format_root -d "${CHROOT}"
    report SYNCED_CODE 82 "chroot synced into the root partition"
}

# The kind of build whose stage times compare, for bscd's estimate (unless
# BSCD_PROFILE is set): the suite and the architecture, and the options that
# change which stages run or how long they take. INCLUDES differ by their
# list: a checksum of it keeps the name short.
build_profile() {
    local kind="debian-${SUITE}-${ARCH}"
    [[ ${CREATE_ONLY_CHROOT} != true ]] || kind+="-chroot"
    [[ ${KERNEL} != none ]] || kind+="-nokernel"
    [[ -z ${PACKAGE_CACHE} ]] || kind+="-cached"
    [[ -z ${INCLUDES} ]] || kind+="-inc$(printf '%s' "${INCLUDES}" | cksum | cut -d' ' -f1)"
    echo "${kind}"
}

# --- Main --------------------------------------------------------------------

check_host
validate_parameters
export BSCD_PROFILE=${BSCD_PROFILE:-$(build_profile)}
check_archive
load_bsc_library

CHROOT=${BUILD_DIR}/chroot
BOOT_STAGING=${BUILD_DIR}/boot
LOG_FILE=${BUILD_DIR}/build.log
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_redis
start_bscd  # bscd --daemonize keeps none of this script's descriptors
BUILD_STARTED=true

if [[ ! -d ${BUILD_DIR} ]]; then
    CREATED_BUILD_DIR=true
    mkdir -p -- "${BUILD_DIR}"
fi
: >"${LOG_FILE}"
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
BOOT_VOLUME_ID=$(tr -d - </proc/sys/kernel/random/uuid | cut -c1-8 | tr a-f A-F)
say "project ${PROJECT_NAME}: Debian ${SUITE} ${ARCH} in ${BUILD_DIR} (tools' output: ${LOG_FILE})"

if [[ -n ${PACKAGE_CACHE} ]]; then
    mkdir -p -- "${PACKAGE_CACHE}"
    # One build at a time per cache: apt locks its archives, debootstrap
    # does not. Another build waits here for this one to end.
    exec {cache_lock}>>"${PACKAGE_CACHE}/.build.lock"
    if ! flock --nonblock "${cache_lock}"; then
        say "waiting for another build that uses PACKAGE_CACHE ${PACKAGE_CACHE}"
        flock "${cache_lock}"
    fi
fi

prepare_chroot
if [[ ${CREATE_ONLY_CHROOT} == true ]]; then
    SUCCEEDED=true
    say "done: the chroot is ${CHROOT}"
    send_request_to_bsc_server SUCCESSFUL_CODE
    exit 0
fi

mount_build_filesystems
write_fstab
set_up_locale
set_up_time_zone
update_indexes
if [[ -n ${INCLUDES} ]]; then
    install_packages
fi
upgrade
if [[ ${KERNEL} != none ]]; then
    install_kernel
fi
prepare_boot_partition
set_up_networking
set_up_users
clean_up

IMAGE=${BUILD_DIR}/${PROJECT_NAME}.img
create_image
format_partitions
sync_partitions

stage "removing the intermediate files"
remove_tree "${BOOT_STAGING}"
if [[ ${KEEP_CHROOT} == true ]]; then
    say "the chroot stays in ${CHROOT} (KEEP_CHROOT=true)"
else
    remove_tree "${CHROOT}"
fi
SUCCEEDED=true
say "done in ${SECONDS} s: the image is ${IMAGE}"
send_request_to_bsc_server SUCCESSFUL_CODE
