// libudev's entry points that a static libhwloc refers to, for the lean calib64 tool
// (src/meson.build): hwloc uses udev only to name I/O devices, which calib64 filters
// out, and treats a null udev as "no udev". Defining them here keeps libudev.so (a
// shared library and its start-up cost) out of the tool.
extern "C" {
struct udev;
struct udev_device;
udev* udev_new() { return nullptr; }
udev* udev_unref(udev*) { return nullptr; }
udev_device* udev_device_new_from_subsystem_sysname(udev*, const char*, const char*) { return nullptr; }
const char* udev_device_get_property_value(udev_device*, const char*) { return nullptr; }
udev_device* udev_device_unref(udev_device*) { return nullptr; }
}
