// placeholder: built by web/build.sh
