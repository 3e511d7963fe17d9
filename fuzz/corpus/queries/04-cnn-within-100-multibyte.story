éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé Zürich (CNN)Officials said the bridge was closed for the whole weekend after the storm (CNN) reported damage.
@highlight
Bridge closed
