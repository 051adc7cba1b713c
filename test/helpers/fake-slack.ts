export * from "../../src/playground/emulator/index.js";
