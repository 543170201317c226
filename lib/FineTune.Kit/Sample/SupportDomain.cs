namespace FineTune.Kit.Sample;

/// <summary>A product line of the fictional company Lumen Home, with what customers say about it.</summary>
internal sealed record ProductLine(
    string Name,
    string Kind,
    string[] Models,
    string[] Symptoms,
    string[] Features,
    string[] Fixes,
    bool IsService);

/// <summary>
/// The fictional domain behind the sample data: Lumen Home sells a smart thermostat, a mesh router, a security camera,
/// a parcel delivery service and a subscription app. Everything here is made up.
/// </summary>
internal static class SupportDomain
{
    public const string Company = "Lumen Home";

    /// <summary>The eight intent labels, in a fixed order.</summary>
    public static readonly string[] Intents =
        ["billing", "shipping_delay", "refund_request", "technical_issue", "account_access", "product_question", "cancellation", "feedback"];

    public static readonly ProductLine[] Products =
    [
        new("Lumen Thermo", "smart thermostat", ["Thermo 2", "Thermo Mini", "Thermo Pro"],
            ["shows the wrong room temperature", "keeps turning the heating on at night", "won't connect to Wi-Fi", "has a blank display",
             "resets its schedule every morning", "clicks but the boiler never starts", "reports error E42", "drains its backup battery in a day",
             "is stuck on the setup screen", "ignores the away mode"],
            ["geofencing away mode", "a seven-day heating schedule", "humidity readings", "energy reports", "multi-zone control",
             "voice assistant support", "open-window detection", "a child lock"],
            ["recalibrate the temperature sensor under Settings > Sensor > Calibrate", "re-run the wiring check in the app",
             "move the thermostat off the 5 GHz band and onto 2.4 GHz", "install firmware 4.2.1, which fixes the schedule bug",
             "replace the two AAA backup batteries", "reset the schedule from the app and save it again"], false),
        new("Lumen Mesh", "mesh Wi-Fi router", ["Mesh AX3000", "Mesh Lite", "Mesh Pro 6E"],
            ["drops the connection every few minutes", "is much slower than my plan", "shows a red light on the satellite node",
             "won't hand out IP addresses", "loses the guest network after a reboot", "blinks amber and never finishes setup",
             "disconnects my work laptop on video calls", "stopped forwarding ports", "reboots itself overnight", "shows error M-17"],
            ["a guest network", "parental controls", "WPA3 security", "a dedicated backhaul band", "port forwarding",
             "a built-in VPN server", "automatic firmware updates", "per-device speed limits"],
            ["move the satellite node within two rooms of the base station", "turn off band steering for older devices",
             "update to firmware 7.0.3 from the Lumen app", "factory-reset the node by holding the pin button for 10 seconds",
             "switch the backhaul channel to auto", "power-cycle the modem first, then the base station"], false),
        new("Lumen Cam", "security camera", ["Cam Indoor", "Cam Outdoor", "Doorbell Cam"],
            ["stops recording after a few seconds", "shows a completely black picture at night", "sends motion alerts ten minutes late",
             "never loads the live view", "doesn't ring the doorbell chime", "drains its battery in two days",
             "echoes through the microphone", "keeps going offline", "sends alerts for every passing car", "loses clips from the cloud history"],
            ["person detection", "activity zones", "two-way audio", "local storage on a microSD card", "30-day cloud history",
             "package detection", "a privacy shutter", "night vision up to 10 metres"],
            ["draw an activity zone that leaves out the street", "lower the motion sensitivity to medium",
             "format the microSD card from the app", "move the camera closer to the router or add a mesh node",
             "turn off the infrared reflection setting", "update the camera to firmware 3.8"], false),
        new("Lumen Parcel", "parcel delivery service", ["Parcel Standard", "Parcel Express", "Parcel Locker"],
            ["has had no tracking update in days", "is marked delivered but nothing arrived", "went to the wrong address",
             "is stuck at the sorting centre", "was returned to sender", "arrived damaged", "needs a signature I can't give",
             "missed the delivery window twice", "came with a locker code that doesn't work", "shows an address exception"],
            ["delivery to a parcel locker", "a one-hour delivery window", "signature on delivery", "safe-place instructions",
             "weekend delivery", "redelivery booking", "live driver tracking", "insured shipping up to $500"],
            ["open a trace with the depot", "rebook the delivery for a date that suits you", "update the address on the tracking page",
             "send the parcel to your nearest locker", "file a damage claim with photos", "ask the driver to leave it in a safe place"], true),
        new("Lumen Plus", "subscription app", ["Plus Monthly", "Plus Annual", "Plus Family"],
            ["crashes when I open the energy tab", "logs me out every day", "won't sync between my phone and tablet",
             "shows someone else's devices", "stopped sending notifications", "is stuck on a loading spinner", "doesn't unlock the premium features I paid for",
             "shows an empty widget", "reports error P-503", "keeps asking me to verify my email"],
            ["shared family access", "extended warranty on all Lumen devices", "priority support", "energy saving tips",
             "unlimited camera history", "free Parcel Express upgrades", "a home dashboard widget", "offline mode"],
            ["sign out and back in to refresh the session", "clear the app cache under Settings > Storage",
             "update the app to version 5.6", "remove and re-add the household member", "turn background refresh back on",
             "restore the purchase from the subscription screen"], true),
    ];

    public static readonly string[] FirstNames =
    [
        "Amara", "Ben", "Chen", "Daniela", "Elif", "Farid", "Grace", "Hiroshi", "Ines", "Jonas", "Kavya", "Liam", "Maya", "Nikolai",
        "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aoife", "Bruno",
        "Camille", "Dev", "Emma", "Felipe", "Greta", "Hassan", "Isla", "Jamal", "Keiko", "Lucia", "Mateo", "Nadia", "Oscar",
        "Paula", "Rafael", "Sofia", "Tom", "Valentina", "Will", "Yara", "Anouk", "Pieter", "Sanne", "Joost", "Femke", "Ruben",
    ];

    public static readonly string[] LastNames =
    [
        "Okafor", "Schmidt", "Li", "Ferreira", "Yilmaz", "Haddad", "Murphy", "Tanaka", "Moreau", "Berg", "Iyer", "Walsh", "Cohen",
        "Petrov", "Adeyemi", "Sharma", "Dubois", "Garcia", "Lindqvist", "Rahman", "Nair", "Novak", "Zhang", "Lopez", "Demir",
        "de Vries", "Kowalski", "Rossi", "Jansen", "Nguyen", "Santos", "Muller", "Costa", "Bakker", "O'Brien", "Kim", "Visser",
    ];

    public static readonly string[] Cities =
    [
        "Rotterdam", "Leeds", "Austin", "Lyon", "Porto", "Graz", "Malmo", "Cork", "Denver", "Utrecht", "Bristol", "Toronto",
        "Valencia", "Leipzig", "Ghent", "Auckland", "Portland", "Bergen", "Turin", "Krakow", "Seattle", "Adelaide", "Eindhoven",
    ];

    public static readonly string[] AgentNames = ["Sam", "Noor", "Eva", "Marco", "Lena", "Kofi", "Ana", "Raj", "Tess", "Jun"];

    public static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static readonly string[] Weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
}
