/* ui-resources.h — registers the workbench's GResource (templates, CSS,
 * icons) once; the application and the GUI tests call it before making
 * widgets from templates. */
#ifndef TS_UI_RESOURCES_H
#define TS_UI_RESOURCES_H

void ts_ui_resources_register(void);

#endif
